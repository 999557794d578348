using ILGPU;

namespace GpuInfo.Kernels;

/// <summary>
/// Stage 1 of every single-input measure: one pass over a slice of each row (one group per slice,
/// read once with wide coalesced loads by <see cref="SliceReader"/>), producing a <see cref="RowPartial"/>.
/// </summary>
public static class RowStatsKernel
{
    public static void Run<T, TLoad>(ArrayView<T> logits, SliceShape shape, float invT,
        ArrayView<float> weights, ArrayView<RowPartial> partials)
        where T : unmanaged
        where TLoad : struct, ILogitLoader<T>
    {
        var slice = RowSlice.Current(shape.Splits, shape.SplitLength, shape.Vocab);
        var fold = new Fold { Acc = RowPartial.Empty, InvT = invT, Weights = weights };
        fold = SliceReader.Read<T, TLoad, Fold>(logits, slice, shape.Misalign, fold);
        var r = GroupMerge.Row(fold.Acc, invT);
        if (Group.IsFirstThread)
        {
            partials[Grid.IdxX] = r;
        }
    }

    private struct Fold : IColumnFold
    {
        public RowPartial Acc;
        public float InvT;
        public ArrayView<float> Weights;

        public void Add(float x, int column) => Acc.Add(x, InvT, Weights.Length > 0 ? Weights[column] : 1f, column);
    }
}
