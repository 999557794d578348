using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using GpuInfo.Kernels;

namespace GpuInfo.Backends.Cpu;

/// <summary>
/// The single-input CPU pass: per block, a vectorised max (and argmax when it improves), then one
/// fused vector loop for Σe^d, Σe^d·d (d = (x - max)/T), Σx and Σw·x, merged into the row's
/// <see cref="RowPartial"/> with the same merge the GPU kernels use.
/// </summary>
internal static class SimdRowStats
{
    public static RowPartial Slice(in RowsView logits, long row, int begin, int end, float invT, ReadOnlySpan<float> weights)
    {
        var acc = RowPartial.Empty;
        var scratch = BlockLoader.ScratchP;
        for (int b = begin; b < end; b += BlockLoader.BlockSize)
        {
            int n = Math.Min(BlockLoader.BlockSize, end - b);
            var x = BlockLoader.Load(logits, row, b, n, scratch);
            Block(x, b, invT, weights.IsEmpty ? default : weights.Slice(b, n), ref acc);
        }

        return acc;
    }

    public static void Block(ReadOnlySpan<float> x, int column0, float invT, ReadOnlySpan<float> w, ref RowPartial acc)
    {
        float max = TensorPrimitives.Max(x);
        if (float.IsNaN(max))
        {
            acc.Softmax.SumExp = float.NaN;
            return;
        }

        if (max > acc.Top.Value)
        {
            acc.Top = new ArgMaxTracker { Value = max, Index = column0 + TensorPrimitives.IndexOfMax(x) };
        }

        if (float.IsInfinity(max))
        {
            // All -inf, or a +inf entry: the exact scalar step (rare, and an error for +inf).
            for (int i = 0; i < x.Length; i++)
            {
                acc.Add(x[i], invT, w.IsEmpty ? 1f : w[i], column0 + i);
            }

            return;
        }

        bool weighted = !w.IsEmpty;
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float w0 = ref MemoryMarshal.GetReference(w);
        var vInvT = Vector256.Create(invT);
        var vMax = Vector256.Create(max);
        var vFloor = Vector256.Create(SoftmaxMath.Floor);
        Vector256<float> s = default, t = default, sx = default, swx = default;
        int i0 = 0;
        for (; i0 <= x.Length - Vector256<float>.Count; i0 += Vector256<float>.Count)
        {
            var v = Vector256.LoadUnsafe(ref x0, (nuint)i0);
            var d = Vector256.MaxNative((v - vMax) * vInvT, vFloor);
            var e = Vector256.Exp(d);
            s += e;
            t = Vector256.FusedMultiplyAdd(e, d, t);
            sx += v;
            if (weighted)
            {
                var wv = Vector256.LoadUnsafe(ref w0, (nuint)i0);
                swx += Vector256.ConditionalSelect(Vector256.Equals(wv, Vector256<float>.Zero), Vector256<float>.Zero, wv * v);
            }
        }

        float ss = Vector256.Sum(s), ts = Vector256.Sum(t), sxs = Vector256.Sum(sx), swxs = Vector256.Sum(swx);
        for (int i = i0; i < x.Length; i++)
        {
            float d = MathF.Max((x[i] - max) * invT, SoftmaxMath.Floor);
            float e = MathF.Exp(d);
            ss += e;
            ts += e * d;
            sxs += x[i];
            if (weighted && w[i] != 0f)
            {
                swxs += w[i] * x[i];
            }
        }

        var block = new SoftmaxAccumulator { Max = max, SumExp = ss, EntropyAcc = ts };
        acc.Softmax = SoftmaxAccumulator.Merge(acc.Softmax, block, invT);
        acc.SumX += sxs;
        acc.SumWX += swxs;
    }
}
