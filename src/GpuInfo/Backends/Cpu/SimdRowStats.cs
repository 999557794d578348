using System.Runtime.CompilerServices;
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
    public static RowPartial Slice<TSums>(in RowsView logits, long row, int begin, int end, float invT, ReadOnlySpan<float> weights)
        where TSums : struct, IRowSums
    {
        var acc = RowPartial.Empty;
        var scratch = BlockLoader.ScratchP;
        for (int b = begin; b < end; b += BlockLoader.BlockSize)
        {
            int n = Math.Min(BlockLoader.BlockSize, end - b);
            var x = BlockLoader.Load(logits, row, b, n, scratch);
            Block<TSums>(x, b, invT, weights.IsEmpty ? default : weights.Slice(b, n), ref acc);
        }

        return acc;
    }

    /// <summary>
    /// A block can reuse the running max as its reference unless its own max exceeds it by more than
    /// this (scaled) gap; then the block is redone around its own max (rare: a row's max is usually
    /// found in its first blocks).
    /// </summary>
    private const float MaxReferenceGap = 60f;

    public static void Block<TSums>(ReadOnlySpan<float> x, int column0, float invT, ReadOnlySpan<float> w, ref RowPartial acc)
        where TSums : struct, IRowSums
    {
        if (!float.IsFinite(acc.Softmax.Max) || !OnePass<TSums>(x, column0, invT, w, ref acc))
        {
            TwoPass<TSums>(x, column0, invT, w, ref acc);
        }
    }

    /// <summary>
    /// One read of the block with the running max as the reference. Returns false, leaving the
    /// accumulator unchanged, when the block's max is too far above it to use it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool OnePass<TSums>(ReadOnlySpan<float> x, int column0, float invT, ReadOnlySpan<float> w, ref RowPartial acc)
        where TSums : struct, IRowSums
    {
        float reference = acc.Softmax.Max;
        var sums = Sums<TSums>(x, reference, invT, w, out float blockMax);
        if (blockMax > reference && (blockMax - reference) * invT > MaxReferenceGap)
        {
            return false;
        }

        // NaN and +inf entries poison the sums themselves: the row is reported invalid.
        acc.Softmax.SumExp += sums.S;
        acc.Softmax.EntropyAcc += sums.T;
        acc.SumX += sums.X;
        acc.SumWX += sums.WX;
        if (blockMax > reference)
        {
            acc.Softmax = SoftmaxAccumulator.Rescaled(acc.Softmax, blockMax, invT);
        }

        if (blockMax > acc.Top.Value)
        {
            acc.Top = new ArgMaxTracker { Value = blockMax, Index = column0 + TensorPrimitives.IndexOfMax(x) };
        }

        return true;
    }

    /// <summary>The block's max first, then the sums around it (a row's first block, and blocks with a far larger max).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TwoPass<TSums>(ReadOnlySpan<float> x, int column0, float invT, ReadOnlySpan<float> w, ref RowPartial acc)
        where TSums : struct, IRowSums
    {
        float max = TensorPrimitives.Max(x);
        if (!float.IsFinite(max))
        {
            // NaN, +inf, or all -inf: the exact scalar step (rare; NaN and +inf are errors).
            for (int i = 0; i < x.Length; i++)
            {
                acc.Add(x[i], invT, w.IsEmpty ? 1f : w[i], column0 + i);
            }

            return;
        }

        if (max > acc.Top.Value)
        {
            acc.Top = new ArgMaxTracker { Value = max, Index = column0 + TensorPrimitives.IndexOfMax(x) };
        }

        var sums = Sums<TSums>(x, max, invT, w, out _);
        var block = new SoftmaxAccumulator { Max = max, SumExp = sums.S, EntropyAcc = sums.T };
        acc.Softmax = SoftmaxAccumulator.Merge(acc.Softmax, block, invT);
        acc.SumX += sums.X;
        acc.SumWX += sums.WX;
    }

    /// <summary>
    /// Σe, Σe·max(g, floor), Σx and Σw·x with g = (x - reference)/T and e = exp(g) (no floor inside
    /// the exp, so NaN propagates), and the block's max.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (float S, float T, float X, float WX) Sums<TSums>(ReadOnlySpan<float> x, float reference, float invT, ReadOnlySpan<float> w, out float blockMax)
        where TSums : struct, IRowSums
    {
        bool weighted = TSums.Smoothing && !w.IsEmpty;
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float w0 = ref MemoryMarshal.GetReference(w);
        var vInvT = Vector256.Create(invT);
        var vRef = Vector256.Create(reference);
        var vFloor = Vector256.Create(SoftmaxMath.Floor);
        var vMax = Vector256.Create(float.NegativeInfinity);
        Vector256<float> s = default, t = default, sx = default, swx = default;
        int i0 = 0;
        for (; i0 <= x.Length - Vector256<float>.Count; i0 += Vector256<float>.Count)
        {
            var v = Vector256.LoadUnsafe(ref x0, (nuint)i0);
            var g = (v - vRef) * vInvT;
            var e = Vector256.Exp(g);
            s += e;
            if (TSums.Entropy)
            {
                t = Vector256.FusedMultiplyAdd(e, Vector256.MaxNative(g, vFloor), t);
            }

            if (TSums.Smoothing)
            {
                sx += v;
            }

            vMax = Vector256.MaxNative(vMax, v);
            if (weighted)
            {
                var wv = Vector256.LoadUnsafe(ref w0, (nuint)i0);
                swx += Vector256.ConditionalSelect(Vector256.Equals(wv, Vector256<float>.Zero), Vector256<float>.Zero, wv * v);
            }
        }

        float ss = Vector256.Sum(s), ts = Vector256.Sum(t), sxs = Vector256.Sum(sx), swxs = Vector256.Sum(swx);
        blockMax = HorizontalMax(vMax);
        for (int i = i0; i < x.Length; i++)
        {
            float g = (x[i] - reference) * invT;
            float e = MathF.Exp(g);
            ss += e;
            ts += e * MathF.Max(g, SoftmaxMath.Floor);
            sxs += x[i];
            blockMax = MathF.Max(blockMax, x[i]);
            if (weighted && w[i] != 0f)
            {
                swxs += w[i] * x[i];
            }
        }

        return (ss, ts, sxs, swxs);
    }

    private static float HorizontalMax(Vector256<float> v)
    {
        float m = v.GetElement(0);
        for (int i = 1; i < Vector256<float>.Count; i++)
        {
            m = MathF.Max(m, v.GetElement(i));
        }

        return m;
    }
}
