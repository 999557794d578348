using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using GpuInfo.Kernels;

namespace GpuInfo.Backends.Cpu;

/// <summary>
/// The two-input CPU pass: per block, both maxes (and argmaxes), then one vector loop for both
/// softmax sums, P's entropy term and each side's KL terms (see <see cref="KlMath"/>): the
/// weighted difference and the curvature φ, vectorised through its series where |zp - zq| &lt; ½
/// (nearly every entry when comparing a model with its quantization); other entries take the
/// kernels' scalar formulas.
/// </summary>
internal static class SimdPairStats
{
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

    public static void Block(ReadOnlySpan<float> xp, ReadOnlySpan<float> xq, int column0, float invT, ref PairPartial acc)
    {
        float maxP = TensorPrimitives.Max(xp);
        float maxQ = TensorPrimitives.Max(xq);
        if (!float.IsFinite(maxP) || !float.IsFinite(maxQ))
        {
            // NaN, +inf or an all -inf block on either side: the exact scalar step (rare; NaN and +inf are errors).
            for (int i = 0; i < xp.Length; i++)
            {
                acc.Add(xp[i], xq[i], invT, column0 + i);
            }

            return;
        }

        if (maxP > acc.TopP.Value)
        {
            acc.TopP = new ArgMaxTracker { Value = maxP, Index = column0 + TensorPrimitives.IndexOfMax(xp) };
        }

        if (maxQ > acc.TopQ.Value)
        {
            acc.TopQ = new ArgMaxTracker { Value = maxQ, Index = column0 + TensorPrimitives.IndexOfMax(xq) };
        }

        var blockP = new SoftmaxAccumulator { Max = maxP };
        var blockQ = new SoftmaxAccumulator { Max = maxQ };
        ref float p0 = ref MemoryMarshal.GetReference(xp);
        ref float q0 = ref MemoryMarshal.GetReference(xq);
        var vInvT = Vector256.Create(invT);
        var vMaxP = Vector256.Create(maxP);
        var vMaxQ = Vector256.Create(maxQ);
        var vFloor = Vector256.Create(SoftmaxMath.Floor);
        var half = Vector256.Create(0.5f);
        var zero = Vector256<float>.Zero;
        Vector256<float> sp = default, tp = default, vp = default, cp = default, sq = default, vq = default, cq = default;
        int i0 = 0;
        for (; i0 <= xp.Length - Vector256<float>.Count; i0 += Vector256<float>.Count)
        {
            var xpv = Vector256.LoadUnsafe(ref p0, (nuint)i0);
            var xqv = Vector256.LoadUnsafe(ref q0, (nuint)i0);
            var dp = Vector256.MaxNative((xpv - vMaxP) * vInvT, vFloor);
            var dq = Vector256.MaxNative((xqv - vMaxQ) * vInvT, vFloor);
            var ep = Vector256.Exp(dp);
            var eq = Vector256.Exp(dq);
            var v = (xpv - xqv) * vInvT;
            sp += ep;
            tp = Vector256.FusedMultiplyAdd(ep, dp, tp);
            sq += eq;
            vp += Vector256.ConditionalSelect(Vector256.Equals(ep, zero), zero, ep * v);
            vq -= Vector256.ConditionalSelect(Vector256.Equals(eq, zero), zero, eq * v);
            var near = Vector256.LessThan(Vector256.Abs(v), half);
            cp += Vector256.ConditionalSelect(near, ep * PhiSeries(-v), zero);
            cq += Vector256.ConditionalSelect(near, eq * PhiSeries(v), zero);
            uint far = ~near.ExtractMostSignificantBits() & 0xFFu;
            while (far != 0)
            {
                int lane = System.Numerics.BitOperations.TrailingZeroCount(far);
                far &= far - 1;
                float a = xp[i0 + lane], b = xq[i0 + lane];
                AddFar(ref blockP, a, b, invT, ep.GetElement(lane));
                AddFar(ref blockQ, b, a, invT, eq.GetElement(lane));
            }
        }

        blockP.SumExp = Vector256.Sum(sp);
        blockP.EntropyAcc = Vector256.Sum(tp);
        blockP.ValueAcc = Vector256.Sum(vp);
        blockP.CurvatureAcc += Vector256.Sum(cp);
        blockQ.SumExp = Vector256.Sum(sq);
        blockQ.ValueAcc = Vector256.Sum(vq);
        blockQ.CurvatureAcc += Vector256.Sum(cq);
        for (int i = i0; i < xp.Length; i++)
        {
            float a = xp[i], b = xq[i];
            AddTail(ref blockP, a, b, invT, withEntropy: true);
            AddTail(ref blockQ, b, a, invT, withEntropy: false);
        }

        acc.P = SoftmaxAccumulator.Merge(acc.P, blockP, invT);
        acc.Q = SoftmaxAccumulator.Merge(acc.Q, blockQ, invT);
    }

    /// <summary>The curvature and mismatch terms of an entry with |z - z'| ≥ ½ (the vector loop did the sums).</summary>
    private static void AddFar(ref SoftmaxAccumulator side, float x, float other, float invT, float e)
    {
        float otherGap = (other - side.Max) * invT;
        if (x == float.NegativeInfinity || e == 0f)
        {
            bool counts = x == float.NegativeInfinity ? other > float.NegativeInfinity : otherGap > KlMath.NegligibleGap;
            side.Mismatches += counts ? 1f : 0f;
            return;
        }

        side.CurvatureAcc += KlMath.WeightedPhi(e, (other - x) * invT, otherGap);
    }

    /// <summary>Every term of one tail entry, relative to the block's max.</summary>
    private static void AddTail(ref SoftmaxAccumulator side, float x, float other, float invT, bool withEntropy)
    {
        float d = MathF.Max((x - side.Max) * invT, SoftmaxMath.Floor);
        float e = MathF.Exp(d);
        float v = (x - other) * invT;
        side.SumExp += e;
        side.EntropyAcc += withEntropy ? e * d : 0f;
        if (e != 0f)
        {
            side.ValueAcc += e * v;
        }

        if (MathF.Abs(v) < 0.5f && e != 0f)
        {
            side.CurvatureAcc += e * KlMath.PhiSeries(-v);
        }
        else
        {
            AddFar(ref side, x, other, invT, e);
        }
    }

    private static Vector256<float> PhiSeries(Vector256<float> d)
    {
        var r = Vector256.Create(1f / 362880f);
        r = Vector256.FusedMultiplyAdd(r, d, Vector256.Create(1f / 40320f));
        r = Vector256.FusedMultiplyAdd(r, d, Vector256.Create(1f / 5040f));
        r = Vector256.FusedMultiplyAdd(r, d, Vector256.Create(1f / 720f));
        r = Vector256.FusedMultiplyAdd(r, d, Vector256.Create(1f / 120f));
        r = Vector256.FusedMultiplyAdd(r, d, Vector256.Create(1f / 24f));
        r = Vector256.FusedMultiplyAdd(r, d, Vector256.Create(1f / 6f));
        r = Vector256.FusedMultiplyAdd(r, d, Vector256.Create(1f / 2f));
        return r * d * d;
    }
}
