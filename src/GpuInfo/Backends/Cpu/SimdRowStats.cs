using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using GpuInfo.Backends.Cpu.Lanes;
using GpuInfo.Kernels;

namespace GpuInfo.Backends.Cpu;

/// <summary>
/// The single-input CPU pass: per block, one fused vector loop around the row's running max (a block
/// whose own max is far above it, or that makes the row near-one-hot, is redone around that max
/// without its entry, so that the max's 1 never enters a sum: see <see cref="SoftmaxAccumulator.Tail"/>)
/// for the block max, Σ2^y, Σ2^y·y and Σ2^2y
/// (y = (x - max)·log2 e / T), and Σw·(x - max) with Σw for label smoothing (w = 1 unweighted), merged into the row's <see cref="RowPartial"/> with the
/// same merge the GPU kernels use. Generic over the lane width
/// <typeparamref name="TV"/> and the optional sums <typeparamref name="TSums"/>.
/// </summary>
internal static class SimdRowStats<TV, TSums>
    where TV : struct, ILanes<TV>
    where TSums : struct, IRowSums
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    private const float Log2E = 1.44269504088896341f;

    private const float Ln2 = 0.693147180559945309f;

    /// <summary>
    /// A block can reuse the running max as its reference unless its own max exceeds it by more than
    /// this (scaled) gap; then the block is redone around its own max.
    /// </summary>
    private const float MaxReferenceGap = 60f;

    /// <summary>
    /// A block with a new max keeps the sums it made around the old one when the row's tail is then at
    /// least this (relative to the new max's 1): its lane's entries after the max were rounded against
    /// that max, an error of ~1e-7 absolute. A smaller tail (a row the new max makes near-one-hot)
    /// redoes the block around its max.
    /// </summary>
    private const float MinRecentredTail = 1f;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Block(ReadOnlySpan<float> x, int column0, float invT, ReadOnlySpan<float> w, ref RowPartial acc)
    {
        if (!float.IsFinite(acc.Softmax.Max) || !OnePass(x, column0, invT, w, ref acc))
        {
            TwoPass(x, column0, invT, w, ref acc);
        }
    }

    /// <summary>
    /// One read of the block with the running max as the reference. Returns false, leaving the
    /// accumulator unchanged, when the block's max is too far above it, or leaves too small a tail.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool OnePass(ReadOnlySpan<float> x, int column0, float invT, ReadOnlySpan<float> w, ref RowPartial acc)
    {
        float reference = acc.Softmax.Max;
        var sums = Sums(x, reference, invT, w, out float blockMax);
        if (blockMax > reference && (blockMax - reference) * invT > MaxReferenceGap)
        {
            return false;
        }

        // NaN and +inf entries poison the sums themselves: the row is reported invalid. Entries equal to
        // the running max (ties) add their 1 to the tail, as they should.
        var softmax = acc.Softmax;
        softmax.Tail += sums.S;
        softmax.EntropyAcc += sums.T;
        softmax.SquareTail += sums.Q;
        if (blockMax > reference)
        {
            softmax.Recentre(blockMax, invT);
            if (!(softmax.Tail >= MinRecentredTail))
            {
                return false;
            }

            if (blockMax > acc.Top.Value)
            {
                acc.Top = new ArgMaxTracker { Value = blockMax, Index = column0 + TensorPrimitives.IndexOfMax(x) };
            }
        }

        acc.Softmax = softmax;
        if (TSums.Smoothing)
        {
            // The block's gaps are around the running max (the reference): add, then move to the new max.
            float weight = acc.WeightSum + sums.W;
            acc.SumGap = SoftmaxMath.ShiftGapSum(acc.SumGap + sums.Gap, weight, reference, softmax.Max);
            acc.WeightSum = weight;
        }

        return true;
    }

    /// <summary>
    /// The block's max first, then the sums around it over the entries before and after the (first) one
    /// holding it (a row's first block, and blocks with a new max).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TwoPass(ReadOnlySpan<float> x, int column0, float invT, ReadOnlySpan<float> w, ref RowPartial acc)
    {
        int top = TensorPrimitives.IndexOfMax(x);
        float max = x[top];
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
            acc.Top = new ArgMaxTracker { Value = max, Index = column0 + top };
        }

        var before = Sums(x[..top], max, invT, w.IsEmpty ? w : w[..top], out _);
        var after = Sums(x[(top + 1)..], max, invT, w.IsEmpty ? w : w[(top + 1)..], out _);
        var block = SoftmaxAccumulator.Empty with { Max = max, Tail = before.S + after.S, EntropyAcc = before.T + after.T, SquareTail = before.Q + after.Q };
        float oldMax = acc.Softmax.Max;
        acc.Softmax = SoftmaxAccumulator.Merge(acc.Softmax, block, invT);
        if (TSums.Smoothing)
        {
            // Gaps around the block's max (the max's own is 0), and the row's so far, both moved to the merged max.
            float m = acc.Softmax.Max;
            float blockWeight = before.W + after.W + (w.IsEmpty ? 1f : w[top]);
            acc.SumGap = SoftmaxMath.ShiftGapSum(acc.SumGap, acc.WeightSum, oldMax, m)
                + SoftmaxMath.ShiftGapSum(before.Gap + after.Gap, blockWeight, max, m);
            acc.WeightSum += blockWeight;
        }
    }

    /// <summary>
    /// Σe, Σe·max(g, floor), Σe², Σw·(x - reference) (0·(-inf) taken as 0; w = 1 unweighted) and Σw, with
    /// g = (x - reference)/T and e = exp(g) (no floor inside the exp, so NaN propagates), and the block's max.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (float S, float T, float Q, float Gap, float W) Sums(ReadOnlySpan<float> x, float reference, float invT, ReadOnlySpan<float> w, out float blockMax)
    {
        bool weighted = TSums.Smoothing && !w.IsEmpty;
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float w0 = ref MemoryMarshal.GetReference(w);
        // In base 2: y = (x - reference)·invT·log2 e, e = 2^y, and Σe·y scaled back by ln 2 below.
        var vScale = TV.Create(invT * Log2E);
        var vRef = TV.Create(reference);
        var vFloor = TV.Create(SoftmaxMath.Floor * Log2E);
        var vMax = TV.Create(float.NegativeInfinity);
        TV s = default, t = default, q = default, sx = default, sw = default;
        int i0 = 0;
        for (; i0 <= x.Length - TV.Count; i0 += TV.Count)
        {
            Prefetch.Ahead(ref x0, i0);
            var v = TV.Load(ref x0, (nuint)i0);
            var d = v - vRef;
            var y = d * vScale;
            var e = TV.Exp2(y);
            s += e;
            if (TSums.Entropy)
            {
                t = TV.MultiplyAdd(e, TV.MaxNative(y, vFloor), t);
            }

            if (TSums.Squares)
            {
                q = TV.MultiplyAdd(e, e, q);
            }

            vMax = TV.MaxNative(vMax, v);
            if (weighted)
            {
                var wv = TV.Load(ref w0, (nuint)i0);
                sx = TV.AddProductUnlessZero(sx, wv, d);
                sw += wv;
            }
            else if (TSums.Smoothing)
            {
                sx += d;
            }
        }

        float ss = TV.Sum(s), ts = TV.Sum(t) * Ln2, qs = TV.Sum(q), sxs = TV.Sum(sx), sws = weighted ? TV.Sum(sw) : x.Length;
        blockMax = TV.Max(vMax);
        for (int i = i0; i < x.Length; i++)
        {
            float g = (x[i] - reference) * invT;
            float e = MathF.Exp(g);
            ss += e;
            ts += e * MathF.Max(g, SoftmaxMath.Floor);
            qs += e * e;
            blockMax = MathF.Max(blockMax, x[i]);
            if (weighted)
            {
                sxs += w[i] == 0f ? 0f : w[i] * (x[i] - reference);
                sws += w[i];
            }
            else
            {
                sxs += x[i] - reference;
            }
        }

        return (ss, ts, qs, sxs, sws);
    }
}
