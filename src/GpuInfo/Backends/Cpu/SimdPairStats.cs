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
/// kernels' scalar formulas. Generic over the lane width <typeparamref name="TV"/>.
/// </summary>
internal static class SimdPairStats<TV>
    where TV : struct, ILanes<TV>
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

    /// <summary>As in <see cref="SimdRowStats{TV, TSums}"/>: how far above the running max a block may go and still use it as its reference.</summary>
    private const float MaxReferenceGap = 60f;

    private const float Log2E = 1.44269504088896341f;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Block(ReadOnlySpan<float> xp, ReadOnlySpan<float> xq, int column0, float invT, ref PairPartial acc)
    {
        if (!float.IsFinite(acc.P.Max) || !float.IsFinite(acc.Q.Max) || !OnePass(xp, xq, column0, invT, ref acc))
        {
            TwoPass(xp, xq, column0, invT, ref acc);
        }
    }

    /// <summary>One read of the block around the running maxes and KL shifts; false (accumulator unchanged) if a side's max jumps too far.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool OnePass(ReadOnlySpan<float> xp, ReadOnlySpan<float> xq, int column0, float invT, ref PairPartial acc)
    {
        var blockP = new SoftmaxAccumulator { Max = acc.P.Max, Shift = acc.P.Shift };
        var blockQ = new SoftmaxAccumulator { Max = acc.Q.Max, Shift = acc.Q.Shift };
        Sums(xp, xq, invT, ref blockP, ref blockQ, out float maxP, out float maxQ);
        if ((maxP > acc.P.Max && (maxP - acc.P.Max) * invT > MaxReferenceGap) || (maxQ > acc.Q.Max && (maxQ - acc.Q.Max) * invT > MaxReferenceGap))
        {
            return false;
        }

        // Same reference and shift: the sums add. NaN and +inf poison them (the row is reported invalid).
        acc.P.AddSameFrame(blockP);
        acc.Q.AddSameFrame(blockQ);
        if (maxP > acc.TopP.Value)
        {
            int top = TensorPrimitives.IndexOfMax(xp);
            acc.TopP = new ArgMaxTracker { Value = maxP, Index = column0 + top };
            Recentre(ref acc.P, maxP, (xq[top] - maxP) * invT, invT);
        }

        if (maxQ > acc.TopQ.Value)
        {
            int top = TensorPrimitives.IndexOfMax(xq);
            acc.TopQ = new ArgMaxTracker { Value = maxQ, Index = column0 + top };
            Recentre(ref acc.Q, maxQ, (xp[top] - maxQ) * invT, invT);
        }

        return true;
    }

    /// <summary>Each block's own max and shift (a row's first block, and blocks whose max jumps far).</summary>
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
            // the exact scalar step (rare; NaN and +inf are errors).
            for (int i = 0; i < xp.Length; i++)
            {
                acc.Add(xp[i], xq[i], invT, column0 + i);
            }

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
        var blockP = new SoftmaxAccumulator { Max = maxP, Shift = shiftP };
        var blockQ = new SoftmaxAccumulator { Max = maxQ, Shift = shiftQ };
        Sums(xp, xq, invT, ref blockP, ref blockQ, out _, out _);
        acc.P = SoftmaxAccumulator.Merge(acc.P, blockP, invT);
        acc.Q = SoftmaxAccumulator.Merge(acc.Q, blockQ, invT);
    }

    /// <summary>Moves an accumulator to a new max and the shift of the entry holding it.</summary>
    private static void Recentre(ref SoftmaxAccumulator a, float max, float shift, float invT)
    {
        a = SoftmaxAccumulator.Rescaled(a, max, invT);
        if (float.IsFinite(shift))
        {
            KlMath.MoveShift(ref a, a.SumExp, shift);
        }
    }

    /// <summary>Both sides' sums around the references (Max) and shifts already set in the block accumulators.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Sums(ReadOnlySpan<float> xp, ReadOnlySpan<float> xq, float invT, ref SoftmaxAccumulator blockP, ref SoftmaxAccumulator blockQ,
        out float maxP, out float maxQ)
    {
        ref float p0 = ref MemoryMarshal.GetReference(xp);
        ref float q0 = ref MemoryMarshal.GetReference(xq);
        var vInvT = TV.Create(invT);
        var vRefP = TV.Create(blockP.Max);
        var vRefQ = TV.Create(blockQ.Max);
        var vShiftP = TV.Create(blockP.Shift);
        var vShiftQ = TV.Create(blockQ.Shift);
        var vFloor = TV.Create(SoftmaxMath.Floor);
        var half = TV.Create(0.5f);
        var vLog2E = TV.Create(Log2E);
        var zero = default(TV);
        var mp = TV.Create(float.NegativeInfinity);
        var mq = mp;
        TV sp = default, tp = default, vp = default, cp = default, up = default;
        TV sq = default, vq = default, cq = default, uq = default;

        // Far lanes (|u| ≥ ½, rare) are handled after the loop, not by a call inside it.
        Span<ulong> farMasks = stackalloc ulong[BlockLoader.BlockSize / 8];
        ulong anyFar = 0;
        int i0 = 0;
        for (; i0 <= xp.Length - TV.Count; i0 += TV.Count)
        {
            Prefetch.Ahead(ref p0, i0);
            Prefetch.Ahead(ref q0, i0);
            var xpv = TV.Load(ref p0, (nuint)i0);
            var xqv = TV.Load(ref q0, (nuint)i0);
            mp = TV.MaxNative(mp, xpv);
            mq = TV.MaxNative(mq, xqv);
            var gp = (xpv - vRefP) * vInvT;
            var gq = (xqv - vRefQ) * vInvT;
            var ep = TV.Exp2(gp * vLog2E);
            var eq = TV.Exp2(gq * vLog2E);
            var v = (xpv - xqv) * vInvT;
            var noP = TV.EqualTo(ep, zero);
            var noQ = TV.EqualTo(eq, zero);
            sp += ep;
            tp = TV.MultiplyAdd(ep, TV.MaxNative(gp, vFloor), tp);
            sq += eq;
            vp += TV.Select(noP, zero, ep * v);
            vq -= TV.Select(noQ, zero, eq * v);
            var uP = -v - vShiftP;
            var uQ = v - vShiftQ;
            up += TV.Select(noP, zero, ep * uP);
            uq += TV.Select(noQ, zero, eq * uQ);
            var nearP = TV.LessThan(TV.Abs(uP), half);
            var nearQ = TV.LessThan(TV.Abs(uQ), half);
            cp += TV.Select(nearP, ep * PhiSeries(uP), zero);
            cq += TV.Select(nearQ, eq * PhiSeries(uQ), zero);
            ulong far = (~TV.Bits(nearP) & TV.AllBits) | ((~TV.Bits(nearQ) & TV.AllBits) << 32);
            farMasks[i0 / TV.Count] = far;
            anyFar |= far;
        }

        if (anyFar != 0)
        {
            AddFarLanes(xp, xq, invT, farMasks[..(i0 / TV.Count)], ref blockP, ref blockQ);
        }

        blockP.SumExp = TV.Sum(sp);
        blockP.EntropyAcc = TV.Sum(tp);
        blockP.ValueAcc = TV.Sum(vp);
        blockP.CurvatureAcc += TV.Sum(cp);
        blockP.ShiftAcc = TV.Sum(up);
        blockQ.SumExp = TV.Sum(sq);
        blockQ.ValueAcc = TV.Sum(vq);
        blockQ.CurvatureAcc += TV.Sum(cq);
        blockQ.ShiftAcc = TV.Sum(uq);
        maxP = TV.Max(mp);
        maxQ = TV.Max(mq);
        for (int i = i0; i < xp.Length; i++)
        {
            AddTail(ref blockP, xp[i], xq[i], invT, withEntropy: true);
            AddTail(ref blockQ, xq[i], xp[i], invT, withEntropy: false);
            maxP = MathF.Max(maxP, xp[i]);
            maxQ = MathF.Max(maxQ, xq[i]);
        }
    }

    /// <summary>
    /// The far lanes of the vector loop (low 32 bits of each mask: P's, high: Q's), with the same
    /// vector exp as the loop so that every sum sees the same e.
    /// </summary>
    private static void AddFarLanes(ReadOnlySpan<float> xp, ReadOnlySpan<float> xq, float invT, ReadOnlySpan<ulong> farMasks,
        ref SoftmaxAccumulator blockP, ref SoftmaxAccumulator blockQ)
    {
        ref float p0 = ref MemoryMarshal.GetReference(xp);
        ref float q0 = ref MemoryMarshal.GetReference(xq);
        for (int k = 0; k < farMasks.Length; k++)
        {
            ulong far = farMasks[k];
            if (far == 0)
            {
                continue;
            }

            int i0 = k * TV.Count;
            var ep = TV.Exp2((TV.Load(ref p0, (nuint)i0) - TV.Create(blockP.Max)) * TV.Create(invT) * TV.Create(Log2E));
            var eq = TV.Exp2((TV.Load(ref q0, (nuint)i0) - TV.Create(blockQ.Max)) * TV.Create(invT) * TV.Create(Log2E));
            for (ulong farP = far & 0xFFFF_FFFFul; farP != 0; farP &= farP - 1)
            {
                int lane = System.Numerics.BitOperations.TrailingZeroCount(farP);
                AddFar(ref blockP, xp[i0 + lane], xq[i0 + lane], invT, TV.Element(ep, lane));
            }

            for (ulong farQ = far >> 32; farQ != 0; farQ &= farQ - 1)
            {
                int lane = System.Numerics.BitOperations.TrailingZeroCount(farQ);
                AddFar(ref blockQ, xq[i0 + lane], xp[i0 + lane], invT, TV.Element(eq, lane));
            }
        }
    }

    /// <summary>The curvature and mismatch terms of an entry with |d - c| ≥ ½ (the vector loop did the sums).</summary>
    private static void AddFar(ref SoftmaxAccumulator side, float x, float other, float invT, float e)
    {
        float otherGap = (other - side.Max) * invT;
        if (x == float.NegativeInfinity || e == 0f)
        {
            bool counts = x == float.NegativeInfinity ? other > float.NegativeInfinity : otherGap > KlMath.NegligibleGap;
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
        side.SumExp += e;
        side.EntropyAcc += withEntropy ? e * g : 0f;
        if (e != 0f)
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
