using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using GpuInfo.Backends.Cpu.Lanes;
using GpuInfo.Kernels;

namespace GpuInfo.Backends.Cpu;

/// <summary>
/// The two-input CPU pass: per block, both maxes (and argmaxes), then one vector loop for both
/// softmax sums, P's entropy term and each side's KL terms (see <see cref="KlMath"/>): the
/// weighted difference and the curvature φ, vectorised through its series where |zp - zq| &lt; ½
/// (nearly every entry when comparing a model with its quantization); other entries take the
/// kernels' scalar formulas. Generic over the lane width <typeparamref name="TV"/>, and over
/// <typeparamref name="TSquares"/>: whether each side also sums e² (Σp², for the Brier scores).
/// </summary>
internal static class SimdPairStats<TV, TSquares>
    where TV : struct, ILanes<TV>
    where TSquares : struct, ISwitch
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static PairPartial Slice(in RowsView p, in RowsView q, long row, int begin, int end, float invT)
    {
        var acc = PairPartial.Empty;
        var scratchP = BlockLoader.ScratchP;
        var scratchQ = BlockLoader.ScratchQ;
        for (int b = begin; b < end; b += BlockLoader.BlockSize)
        {
            int n = Math.Min(BlockLoader.BlockSize, end - b);
            Block(BlockLoader.Load(p, row, b, n, scratchP), BlockLoader.Load(q, row, b, n, scratchQ), b, invT, ref acc);
        }

        return acc;
    }

    private const float Log2E = 1.44269504088896341f;

    /// <summary>As in <see cref="SimdRowStats{TV, TSums}"/>: how far above the running max a block may go and still use it as its reference.</summary>
    private const float MaxReferenceGap = 60f;

    /// <summary>As in <see cref="SimdRowStats{TV, TSums}"/>: the smallest tail a block with a new max may leave and keep its sums.</summary>
    private const float MinRecentredTail = 1f;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Block(ReadOnlySpan<float> xp, ReadOnlySpan<float> xq, int column0, float invT, ref PairPartial acc)
    {
        if (!float.IsFinite(acc.P.Max) || !float.IsFinite(acc.Q.Max) || !OnePass(xp, xq, column0, invT, ref acc))
        {
            TwoPass(xp, xq, column0, invT, ref acc);
        }
    }

    /// <summary>
    /// One read of the block around the running maxes and KL shifts; false (accumulator unchanged) if a
    /// side's max jumps too far, or leaves that side near-one-hot.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool OnePass(ReadOnlySpan<float> xp, ReadOnlySpan<float> xq, int column0, float invT, ref PairPartial acc)
    {
        var blockP = SoftmaxAccumulator.Frame(acc.P.Max, acc.P.Shift);
        var blockQ = SoftmaxAccumulator.Frame(acc.Q.Max, acc.Q.Shift);
        Sums(xp, xq, invT, ref blockP, ref blockQ, out float maxP, out float maxQ);
        if ((maxP > acc.P.Max && (maxP - acc.P.Max) * invT > MaxReferenceGap) || (maxQ > acc.Q.Max && (maxQ - acc.Q.Max) * invT > MaxReferenceGap))
        {
            return false;
        }

        // Same reference and shift: the sums add (ties with a max add their 1 to its tail). NaN and +inf
        // poison them (the row is reported invalid).
        var sideP = acc.P;
        var sideQ = acc.Q;
        sideP.AddSameFrame(blockP);
        sideQ.AddSameFrame(blockQ);
        int topP = maxP > acc.P.Max ? TensorPrimitives.IndexOfMax(xp) : -1;
        int topQ = maxQ > acc.Q.Max ? TensorPrimitives.IndexOfMax(xq) : -1;
        if ((topP >= 0 && !Recentred(ref sideP, maxP, (xq[topP] - maxP) * invT, invT))
            || (topQ >= 0 && !Recentred(ref sideQ, maxQ, (xp[topQ] - maxQ) * invT, invT)))
        {
            return false;
        }

        acc.P = sideP;
        acc.Q = sideQ;
        if (topP >= 0 && maxP > acc.TopP.Value)
        {
            acc.TopP = new ArgMaxTracker { Value = maxP, Index = column0 + topP };
        }

        if (topQ >= 0 && maxQ > acc.TopQ.Value)
        {
            acc.TopQ = new ArgMaxTracker { Value = maxQ, Index = column0 + topQ };
        }

        return true;
    }

    /// <summary>Each block's own max and shift (a row's first block, and blocks with a new max on either side).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TwoPass(ReadOnlySpan<float> xp, ReadOnlySpan<float> xq, int column0, float invT, ref PairPartial acc)
    {
        int topP = TensorPrimitives.IndexOfMax(xp);
        int topQ = TensorPrimitives.IndexOfMax(xq);
        float maxP = xp[topP];
        float maxQ = xq[topQ];
        float shiftP = (xq[topP] - maxP) * invT;
        float shiftQ = (xp[topQ] - maxQ) * invT;
        if (!float.IsFinite(maxP) || !float.IsFinite(maxQ) || !float.IsFinite(shiftP) || !float.IsFinite(shiftQ))
        {
            // NaN, +inf or an all -inf block on either side, or a side's max where the other is -inf:
            // the exact scalar step (rare; NaN and +inf are errors), into the block's own sums, then
            // merged: one running sum over a whole row of such blocks dropped the terms below its
            // rounding, 3e-5 of the mass at 131k entries (JS of disjoint supports 0.693168, not ln 2).
            var block = PairPartial.Empty;
            for (int i = 0; i < xp.Length; i++)
            {
                block.Add(xp[i], xq[i], invT, column0 + i);
            }

            acc = PairPartial.Merge(acc, block, invT);
            return;
        }

        if (maxP > acc.TopP.Value)
        {
            acc.TopP = new ArgMaxTracker { Value = maxP, Index = column0 + topP };
        }

        if (maxQ > acc.TopQ.Value)
        {
            acc.TopQ = new ArgMaxTracker { Value = maxQ, Index = column0 + topQ };
        }

        // Each side's KL shift is the d of its block max entry (see KlMath).
        var blockP = SoftmaxAccumulator.Frame(maxP, shiftP);
        var blockQ = SoftmaxAccumulator.Frame(maxQ, shiftQ);
        SumsAroundMax<RowSums<Yes, No, TSquares>>(xp, xq, topP, invT, ref blockP);
        SumsAroundMax<RowSums<No, No, TSquares>>(xq, xp, topQ, invT, ref blockQ);
        acc.P = SoftmaxAccumulator.Merge(acc.P, blockP, invT);
        acc.Q = SoftmaxAccumulator.Merge(acc.Q, blockQ, invT);
    }

    /// <summary>
    /// Moves a side to its block's new max and the KL shift of the entry holding it; false where that
    /// leaves a tail too small to keep (the block is then redone around its max).
    /// </summary>
    private static bool Recentred(ref SoftmaxAccumulator side, float max, float shift, float invT)
    {
        bool hadWeight = side.SumExp > 0f;
        float weight = side.Recentre(max, invT);
        if (!(side.Tail >= MinRecentredTail))
        {
            return false;
        }

        if (float.IsFinite(shift))
        {
            KlMath.MoveShift(ref side, weight, shift, hadWeight);
        }

        return true;
    }

    /// <summary>
    /// One side's sums around its block max at <paramref name="top"/>, over the entries before and after
    /// it: the max's own terms are its implicit 1 in the tail, 0 in every other sum but Σe·v, where v = -shift.
    /// </summary>
    private static void SumsAroundMax<TSums>(ReadOnlySpan<float> x, ReadOnlySpan<float> other, int top, float invT, ref SoftmaxAccumulator side)
        where TSums : struct, IRowSums
    {
        // Each part on its own, then added: the same roundings as the single-input pass's (eval and
        // compare give a file's perplexity to the last digit).
        var before = SoftmaxAccumulator.Frame(side.Max, side.Shift);
        var after = before;
        SideSums<TSums>(x[..top], other[..top], invT, ref before);
        SideSums<TSums>(x[(top + 1)..], other[(top + 1)..], invT, ref after);
        side.AddSameFrame(before);
        side.AddSameFrame(after);
        side.ValueAcc -= side.Shift;
    }

    /// <summary>Both sides' sums around the references (Max) and shifts already set in the block accumulators.</summary>
    private static void Sums(ReadOnlySpan<float> xp, ReadOnlySpan<float> xq, float invT, ref SoftmaxAccumulator blockP, ref SoftmaxAccumulator blockQ,
        out float maxP, out float maxQ)
    {
        // One side per loop: the block is in L1 for the second, and each loop's accumulators fit in
        // registers (one loop for both sides kept them in memory; a one-off single-thread harness
        // measured 0.59 G pairs/s per core in L2 for that loop and 0.84 for these, with the other
        // changes of the same commits).
        maxP = SideSums<RowSums<Yes, No, TSquares>>(xp, xq, invT, ref blockP);
        maxQ = SideSums<RowSums<No, No, TSquares>>(xq, xp, invT, ref blockQ);
    }

    /// <summary>
    /// Adds one side's sums (Σe, Σe·g when <typeparamref name="TSums"/> asks for the entropy, and the KL
    /// terms against <paramref name="other"/>); returns the block's max of <paramref name="x"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float SideSums<TSums>(ReadOnlySpan<float> x, ReadOnlySpan<float> other, float invT, ref SoftmaxAccumulator side)
        where TSums : struct, IRowSums
    {
        // Every lane first, with no test in the loop (a masked lane with any weight makes Σe·v infinite).
        var sums = VectorSums<TSums, No>(x, other, invT, side.Max, side.Shift, out int done);
        if (!float.IsFinite(sums.Value))
        {
            // An entry the other side masks (-inf) made Σe·v infinite: again without such lanes, whose
            // q = 0 is judged once against the row's final max (MaskedMax, noted by AddFarLanes).
            sums = VectorSums<TSums, Yes>(x, other, invT, side.Max, side.Shift, out done);
        }

        side.Tail += sums.S;
        side.EntropyAcc += sums.T;
        side.SquareTail += sums.Q;
        side.ValueAcc += sums.Value;
        side.CurvatureAcc += sums.Curvature;
        side.ShiftAcc += sums.ShiftAcc;
        if (sums.AnyFar)
        {
            AddFarLanes(x[..done], other, invT, ref side);
        }

        float blockMax = sums.Max;
        for (int i = done; i < x.Length; i++)
        {
            AddTail(ref side, x[i], other[i], invT, TSums.Entropy);
            blockMax = MathF.Max(blockMax, x[i]);
        }

        return blockMax;
    }

    private readonly record struct SideVectorSums(float S, float T, float Q, float Value, float Curvature, float ShiftAcc, float Max, bool AnyFar);

    /// <summary>
    /// The vector loop of <see cref="SideSums{TSums}"/> over whole vectors (<paramref name="done"/>
    /// columns), noting only whether any lane was far; <typeparamref name="TSkipMasked"/> leaves lanes the
    /// other side masks (-inf) out of the KL sums. A method of its own, with no calls: with the
    /// calls that follow it in the same method, the JIT kept the accumulators in memory.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static SideVectorSums VectorSums<TSums, TSkipMasked>(ReadOnlySpan<float> x, ReadOnlySpan<float> other, float invT, float reference, float klShift,
        out int done)
        where TSums : struct, IRowSums
        where TSkipMasked : struct, ISwitch
    {
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float o0 = ref MemoryMarshal.GetReference(other);
        var vInvT = TV.Create(invT);
        var vRef = TV.Create(reference);
        var vShift = TV.Create(klShift);
        var vFloor = TV.Create(SoftmaxMath.Floor);
        var half = TV.Create(0.5f);
        var vLog2E = TV.Create(Log2E);
        var vLeast = TV.Create(float.MinValue);
        var max = TV.Create(float.NegativeInfinity);
        TV s = default, t = default, q = default, value = default, curvature = default, shift = default;
        var allNear = TV.LessThan(default, half);
        int i0 = 0;
        for (; i0 <= x.Length - TV.Count; i0 += TV.Count)
        {
            // Each side's loop fetches its own input's next block: memory stays busy through both loops.
            Prefetch.Ahead(ref x0, i0, BlockLoader.BlockSize);
            var xv = TV.Load(ref x0, (nuint)i0);
            var ov = TV.Load(ref o0, (nuint)i0);
            max = TV.MaxNative(max, xv);
            var g = (xv - vRef) * vInvT;
            var e = TV.Exp2(g * vLog2E);
            var v = (xv - ov) * vInvT;
            s += e;
            if (TSums.Entropy)
            {
                t = TV.MultiplyAdd(e, TV.MaxNative(g, vFloor), t);
            }

            if (TSums.Squares)
            {
                q = TV.MultiplyAdd(e, e, q);
            }

            var u = -v - vShift;
            var eKl = TSkipMasked.IsOn ? TV.Select(TV.LessThan(ov, vLeast), default, e) : e;
            value = TV.AddProductUnlessZero(value, eKl, v);
            shift = TV.AddProductUnlessZero(shift, eKl, u);
            var near = TV.LessThan(TV.Abs(u), half);
            curvature += TV.Select(near, e * PhiSeries(u), default);
            allNear &= near;
        }

        done = i0;
        return new SideVectorSums(TV.Sum(s), TV.Sum(t), TV.Sum(q), TV.Sum(value), TV.Sum(curvature), TV.Sum(shift), TV.Max(max), TV.Bits(allNear) != TV.AllBits);
    }

    /// <summary>
    /// The far lanes (|u| ≥ ½) of the vector loop, found again vector by vector with the loop's own
    /// expressions, so that they see the same e and u (a block with any far lane is rare when the
    /// two inputs are close, and then a second pass over it in L1 costs less than tracking lanes).
    /// </summary>
    private static void AddFarLanes(ReadOnlySpan<float> x, ReadOnlySpan<float> other, float invT, ref SoftmaxAccumulator side)
    {
        ref float x0 = ref MemoryMarshal.GetReference(x);
        ref float o0 = ref MemoryMarshal.GetReference(other);
        var vInvT = TV.Create(invT);
        var vShift = TV.Create(side.Shift);
        var half = TV.Create(0.5f);
        for (int i0 = 0; i0 <= x.Length - TV.Count; i0 += TV.Count)
        {
            var xv = TV.Load(ref x0, (nuint)i0);
            var u = -((xv - TV.Load(ref o0, (nuint)i0)) * vInvT) - vShift;
            ulong far = ~TV.Bits(TV.LessThan(TV.Abs(u), half)) & TV.AllBits;
            if (far == 0)
            {
                continue;
            }

            var e = TV.Exp2((xv - TV.Create(side.Max)) * vInvT * TV.Create(Log2E));
            for (; far != 0; far &= far - 1)
            {
                int lane = System.Numerics.BitOperations.TrailingZeroCount(far);
                AddFar(ref side, x[i0 + lane], other[i0 + lane], invT, TV.Element(e, lane));
            }
        }
    }

    /// <summary>The curvature and mismatch terms of an entry with |d - c| ≥ ½ (the vector loop did the sums).</summary>
    private static void AddFar(ref SoftmaxAccumulator side, float x, float other, float invT, float e)
    {
        if (other == float.NegativeInfinity)
        {
            // q = 0 here: judged against the row's final max (a NaN x fails the test; the tail holds it).
            if (x > side.MaskedMax)
            {
                side.MaskedMax = x;
            }

            return;
        }

        float otherGap = (other - side.Max) * invT;
        if (x == float.NegativeInfinity || e == 0f)
        {
            // P vanishes here; Q's mass counts relative to Q at P's max (otherGap − Shift), not to P's max.
            bool counts = x == float.NegativeInfinity ? other > float.NegativeInfinity : otherGap - side.Shift > KlMath.NegligibleGap;
            side.Mismatches += counts ? 1f : 0f;
            return;
        }

        side.CurvatureAcc += KlMath.WeightedPhi(e, (other - x) * invT - side.Shift, otherGap - side.Shift);
    }

    /// <summary>Every term of one tail entry, relative to the block's max and shift.</summary>
    private static void AddTail(ref SoftmaxAccumulator side, float x, float other, float invT, bool withEntropy)
    {
        float g = (x - side.Max) * invT;
        float e = MathF.Exp(g);
        g = MathF.Max(g, SoftmaxMath.Floor);
        float v = (x - other) * invT;
        float u = -v - side.Shift;
        side.Tail += e;
        side.SquareTail += e * e;
        side.EntropyAcc += withEntropy ? e * g : 0f;
        if (e != 0f && other != float.NegativeInfinity)
        {
            side.ValueAcc += e * v;
            side.ShiftAcc += e * u;
        }

        if (MathF.Abs(u) < 0.5f && e != 0f)
        {
            side.CurvatureAcc += e * KlMath.PhiSeries(u);
        }
        else
        {
            AddFar(ref side, x, other, invT, e);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV PhiSeries(TV d)
    {
        var r = TV.Create(1f / 362880f);
        r = TV.MultiplyAdd(r, d, TV.Create(1f / 40320f));
        r = TV.MultiplyAdd(r, d, TV.Create(1f / 5040f));
        r = TV.MultiplyAdd(r, d, TV.Create(1f / 720f));
        r = TV.MultiplyAdd(r, d, TV.Create(1f / 120f));
        r = TV.MultiplyAdd(r, d, TV.Create(1f / 24f));
        r = TV.MultiplyAdd(r, d, TV.Create(1f / 6f));
        r = TV.MultiplyAdd(r, d, TV.Create(1f / 2f));
        return r * d * d;
    }
}
