using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using GpuInfo.Kernels;

namespace GpuInfo.Backends.Cpu;

/// <summary>
/// The two-input CPU pass: per block, both maxes (and argmaxes), then one vector loop for both
/// softmax sums, P's entropy term, and the KL terms Σe^{zp-m}(zp-zq) and Σe^{zq-m}(zq-zp).
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
        float zmp = maxP * invT;
        float zmq = maxQ * invT;
        if (!float.IsFinite(zmp) || !float.IsFinite(zmq))
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

        ref float p0 = ref MemoryMarshal.GetReference(xp);
        ref float q0 = ref MemoryMarshal.GetReference(xq);
        var vInvT = Vector256.Create(invT);
        var vMaxP = Vector256.Create(zmp);
        var vMaxQ = Vector256.Create(zmq);
        var vFloor = Vector256.Create(SoftmaxMath.Floor);
        var zero = Vector256<float>.Zero;
        Vector256<float> sp = default, tp = default, up = default, sq = default, uq = default;
        int i0 = 0;
        for (; i0 <= xp.Length - Vector256<float>.Count; i0 += Vector256<float>.Count)
        {
            var zp = Vector256.LoadUnsafe(ref p0, (nuint)i0) * vInvT;
            var zq = Vector256.LoadUnsafe(ref q0, (nuint)i0) * vInvT;
            var dp = Vector256.MaxNative(zp - vMaxP, vFloor);
            var dq = Vector256.MaxNative(zq - vMaxQ, vFloor);
            var ep = Vector256.Exp(dp);
            var eq = Vector256.Exp(dq);
            var v = zp - zq;
            sp += ep;
            tp = Vector256.FusedMultiplyAdd(ep, dp, tp);
            sq += eq;
            up += Vector256.ConditionalSelect(Vector256.Equals(ep, zero), zero, ep * v);
            uq -= Vector256.ConditionalSelect(Vector256.Equals(eq, zero), zero, eq * v);
        }

        float ssp = Vector256.Sum(sp), stp = Vector256.Sum(tp), sup = Vector256.Sum(up);
        float ssq = Vector256.Sum(sq), suq = Vector256.Sum(uq);
        for (int i = i0; i < xp.Length; i++)
        {
            float zp = xp[i] * invT, zq = xq[i] * invT;
            float dp = MathF.Max(zp - zmp, SoftmaxMath.Floor), dq = MathF.Max(zq - zmq, SoftmaxMath.Floor);
            float ep = MathF.Exp(dp), eq = MathF.Exp(dq);
            ssp += ep;
            stp += ep * dp;
            ssq += eq;
            sup += ep == 0f ? 0f : ep * (zp - zq);
            suq += eq == 0f ? 0f : eq * (zq - zp);
        }

        acc.P = SoftmaxAccumulator.Merge(acc.P, new SoftmaxAccumulator { Max = zmp, SumExp = ssp, EntropyAcc = stp, ValueAcc = sup });
        acc.Q = SoftmaxAccumulator.Merge(acc.Q, new SoftmaxAccumulator { Max = zmq, SumExp = ssq, ValueAcc = suq });
    }
}
