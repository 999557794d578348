using ILGPU;

namespace GpuInfo.Kernels;

/// <summary>
/// Stage 1 of every single-input measure: one pass over a slice of each row (one group per slice,
/// threads striding by the group size for coalesced loads), producing a <see cref="RowPartial"/>.
/// </summary>
public static class RowStatsKernel
{
    public static void Run<T, TLoad>(ArrayView<T> logits, SliceShape shape, float invT,
        ArrayView<float> weights, ArrayView<RowPartial> partials)
        where T : unmanaged
        where TLoad : struct, ILogitLoader<T>
    {
        var slice = RowSlice.Current(shape.Splits, shape.SplitLength, shape.Vocab);
        var acc = RowPartial.Empty;
        bool weighted = weights.Length > 0;
        for (int j = slice.Begin + Group.IdxX; j < slice.End; j += Group.DimX)
        {
            float x = default(TLoad).Load(logits[slice.RowOffset + j]);
            acc.Add(x, invT, weighted ? weights[j] : 1f, j);
        }

        var r = GroupMerge.Row(acc, invT);
        if (Group.IsFirstThread)
        {
            partials[Grid.IdxX] = r;
        }
    }
}
