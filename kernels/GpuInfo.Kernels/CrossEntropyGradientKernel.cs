using ILGPU;
using ILGPU.Runtime;
using ILGPU.Algorithms;

namespace GpuInfo.Kernels;

/// <summary>
/// The cross-entropy gradient w.r.t. the logits, one group per row slice, given the row's slice
/// partials from the stats stage (merged again here, as the finish stage merges them). Softmax is
/// formed as exp((x - max)/T - log s), never as exp(x/T - lse): a float32 lse rounds away log s's
/// digits when |lse| is large (logits offset by 1e4, or T = 1e-3, gave p 2e-4 off; at 1e30 a tie of
/// four read p = 1). Ignored rows get zeros. Logits are read and the gradient
/// written four columns a thread a step where both views allow (a 16-byte float32 store, a 16- or
/// 8-byte load), else one column. The gradient may alias a float32 logits view (in place): each
/// entry is read before it is written, by the same thread. Invalid rows (non-finite lse) are not
/// written, so that in place the error can still describe the caller's logits.
/// </summary>
public static class CrossEntropyGradientKernel
{
    /// <remarks><paramref name="shape"/>'s <c>MisalignQ</c> is the gradient view's.</remarks>
    public static void Run<T, TLoad>(ArrayView<T> logits, SliceShape shape, CrossEntropyParams ce,
        ArrayView<int> targets, ArrayView<float> weights, ArrayView<RowPartial> partials, ArrayView<float> gradient)
        where T : unmanaged
        where TLoad : struct, ILogitLoader<T>
    {
        var slice = RowSlice.Current(shape.Splits, shape.SplitLength, shape.Vocab);
        long row = slice.RowOffset;
        long first = (long)slice.Row * shape.Splits;
        var acc = partials[first].Softmax;
        for (int s = 1; s < shape.Splits; s++)
        {
            acc = SoftmaxAccumulator.Merge(acc, partials[first + s].Softmax, ce.InvTemperature);
        }

        // An invalid row (non-finite lse) makes the call throw with an error read from the logits,
        // which the in-place gradient would overwrite: its slice is left unwritten (the whole group returns).
        float logSum = acc.LogSum;
        float lse = acc.Max * ce.InvTemperature + logSum;
        if (!float.IsFinite(lse))
        {
            return;
        }

        int y = targets[slice.Row];
        if (y == ce.IgnoreIndex)
        {
            for (int j = slice.Begin + Group.IdxX; j < slice.End; j += Group.DimX)
            {
                gradient[row + j] = 0f;
            }

            return;
        }

        var g = new Entry(ce, y, weights, acc.Max, logSum, lse);
        int width = WideLoad.Width<T, float>();
        var wide = new WideSlice(slice, width, WideLoad.Phase<T, float>(shape.Misalign, shape.MisalignQ, width));
        for (int j = slice.Begin + Group.IdxX; j < wide.BodyBegin; j += Group.DimX)
        {
            gradient[row + j] = g.At(default(TLoad).Load(logits[row + j]), j);
        }

        for (int j = wide.BodyBegin + Group.IdxX * width; j < wide.BodyEnd; j += Group.DimX * width)
        {
            var words = WideLoad.Read(logits, row + j, width);
            Float4 four;
            four.X = g.At(WideLoad.Lane<T, TLoad>(words, 0), j);
            four.Y = g.At(WideLoad.Lane<T, TLoad>(words, 1), j + 1);
            four.Z = g.At(WideLoad.Lane<T, TLoad>(words, 2), j + 2);
            four.W = g.At(WideLoad.Lane<T, TLoad>(words, 3), j + 3);
            gradient.SubView(row + j, width).Cast<Float4>().AsAligned(WideLoad.Bytes)[0] = four;
        }

        for (int j = wide.BodyEnd + Group.IdxX; j < slice.End; j += Group.DimX)
        {
            gradient[row + j] = g.At(default(TLoad).Load(logits[row + j]), j);
        }
    }

    /// <summary>One gradient entry from its raw logit: ofProb·softmax - ofWeight·w_j, less ofTarget at the target.</summary>
    private readonly struct Entry
    {
        private readonly float _invT;
        private readonly float _max;
        private readonly float _logSum;
        private readonly float _ofProb;
        private readonly float _ofTarget;
        private readonly float _ofWeight;
        private readonly int _target;
        private readonly bool _weighted;
        private readonly ArrayView<float> _weights;

        public Entry(CrossEntropyParams ce, int target, ArrayView<float> weights, float max, float logSum, float lse)
        {
            _weighted = ce.HasWeights != 0;
            SoftmaxMath.GradientCoefficients(ce, lse, _weighted ? weights[target] : 1f, out _ofProb, out _ofTarget, out _ofWeight);
            _invT = ce.InvTemperature;
            _max = max;
            _logSum = logSum;
            _target = target;
            _weights = weights;
        }

        public float At(float x, int column)
        {
            float g = _ofProb * XMath.Exp((x - _max) * _invT - _logSum) - _ofWeight * (_weighted ? _weights[column] : 1f);
            return column == _target ? g - _ofTarget : g;
        }
    }
}
