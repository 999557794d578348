using ILGPU;

namespace GpuInfo.Kernels;

/// <summary>
/// Stage 1 of the two-input measures (KL both ways, top-1 agreement, and the log-sum-exps JS needs):
/// one pass over a slice of each pair of rows. P and Q may have different dtypes.
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
        var acc = PairPartial.Empty;
        for (int j = slice.Begin + Group.IdxX; j < slice.End; j += Group.DimX)
        {
            float xp = default(TLoadP).Load(p[slice.RowOffset + j]);
            float xq = default(TLoadQ).Load(q[slice.RowOffset + j]);
            acc.Add(xp, xq, invT, j);
        }

        var r = GroupMerge.Pair(acc, invT);
        if (Group.IsFirstThread)
        {
            partials[Grid.IdxX] = r;
        }
    }
}
