using ILGPU;

namespace GpuInfo.Kernels;

/// <summary>
/// Stage 1 of the two-input measures (KL both ways, top-1 agreement, and the log-sum-exps JS needs):
/// one pass over a slice of each pair of rows, read side by side with wide loads
/// (<see cref="SliceReader"/>). P and Q may have different dtypes.
/// </summary>
public static class PairStatsKernel
{
    public static void Run<TP, TLoadP, TQ, TLoadQ>(ArrayView<TP> p, ArrayView<TQ> q, SliceShape shape,
        float invT, ArrayView<PairPartial> partials)
        where TP : unmanaged
        where TLoadP : struct, ILogitLoader<TP>
        where TQ : unmanaged
        where TLoadQ : struct, ILogitLoader<TQ>
    {
        var slice = RowSlice.Current(shape.Splits, shape.SplitLength, shape.Vocab);
        var fold = new Fold { Acc = PairPartial.Empty, InvT = invT };
        fold = SliceReader.Read<TP, TLoadP, TQ, TLoadQ, Fold>(p, q, slice, shape.Misalign, shape.MisalignQ, fold);
        var r = GroupMerge.Pair(fold.Acc, invT);
        if (Group.IsFirstThread)
        {
            partials[Grid.IdxX] = r;
        }
    }

    private struct Fold : IPairColumnFold
    {
        public PairPartial Acc;
        public float InvT;

        public void Add(float xp, float xq, int column) => Acc.Add(xp, xq, InvT, column);
    }
}
