using ILGPU;
using ILGPU.Algorithms;

namespace GpuInfo.Kernels;

/// <summary>
/// The cross-entropy gradient w.r.t. the logits, one group per row slice, given each row's
/// log-sum-exp from the finish stage. Ignored rows get zeros. the gradient may alias
/// a float32 logits view (in place): each entry is read before it is written,
/// by the same thread.
/// </summary>
public static class CrossEntropyGradientKernel
{
    public static void Run<T, TLoad>(ArrayView<T> logits, SliceShape shape, CrossEntropyParams ce,
        ArrayView<int> targets, ArrayView<float> weights, ArrayView<float> lse, ArrayView<float> gradient)
        where T : unmanaged
        where TLoad : struct, ILogitLoader<T>
    {
        var slice = RowSlice.Current(shape.Splits, shape.SplitLength, shape.Vocab);
        int y = targets[slice.Row];
        if (y == ce.IgnoreIndex)
        {
            for (int j = slice.Begin + Group.IdxX; j < slice.End; j += Group.DimX)
            {
                gradient[slice.RowOffset + j] = 0f;
            }

            return;
        }

        bool weighted = ce.HasWeights != 0;
        float l = lse[slice.Row];
        float wy = weighted ? weights[y] : 1f;
        SoftmaxMath.GradientCoefficients(ce, l, wy, out float ofProb, out float ofTarget, out float ofWeight);
        for (int j = slice.Begin + Group.IdxX; j < slice.End; j += Group.DimX)
        {
            float z = default(TLoad).Load(logits[slice.RowOffset + j]) * ce.InvTemperature;
            float g = ofProb * XMath.Exp(z - l) - ofWeight * (weighted ? weights[j] : 1f);
            gradient[slice.RowOffset + j] = j == y ? g - ofTarget : g;
        }
    }
}
