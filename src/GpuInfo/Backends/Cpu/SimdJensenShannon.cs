using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using GpuInfo.Kernels;

namespace GpuInfo.Backends.Cpu;

/// <summary>
/// The Jensen-Shannon second pass on the CPU. Entries with |log p - log q| &lt; ½ (almost all, when
/// comparing a model with its quantization) take the vectorised series; the rest take the kernels'
/// scalar <see cref="JensenShannonKernel.Term"/>.
/// </summary>
internal static class SimdJensenShannon
{
    public static float Slice(in RowsView p, in RowsView q, long row, int begin, int end, float invT, JsNormalizers norm)
    {
        float sum = 0f;
        var scratchP = BlockLoader.ScratchP;
        var scratchQ = BlockLoader.ScratchQ;
        for (int b = begin; b < end; b += BlockLoader.BlockSize)
        {
            int n = Math.Min(BlockLoader.BlockSize, end - b);
            sum += Block(BlockLoader.Load(p, row, b, n, scratchP), BlockLoader.Load(q, row, b, n, scratchQ), invT, norm);
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Block(ReadOnlySpan<float> xp, ReadOnlySpan<float> xq, float invT, JsNormalizers norm)
    {
        ref float p0 = ref MemoryMarshal.GetReference(xp);
        ref float q0 = ref MemoryMarshal.GetReference(xq);
        var vInvT = Vector256.Create(invT);
        var vMaxP = Vector256.Create(norm.MaxP);
        var vLogSumP = Vector256.Create(norm.LogSumP);
        var vDiff = Vector256.Create(norm.LseDifference);
        var half = Vector256.Create(0.5f);
        Vector256<float> acc = default;
        float scalar = 0f;
        int i0 = 0;
        for (; i0 <= xp.Length - Vector256<float>.Count; i0 += Vector256<float>.Count)
        {
            var xpv = Vector256.LoadUnsafe(ref p0, (nuint)i0);
            var xqv = Vector256.LoadUnsafe(ref q0, (nuint)i0);
            var d = (xpv - xqv) * vInvT - vDiff;
            var near = Vector256.LessThan(Vector256.Abs(d), half);
            var term = half * Vector256.Exp((xpv - vMaxP) * vInvT - vLogSumP) * Series(d);
            acc += Vector256.ConditionalSelect(near, term, Vector256<float>.Zero);
            if (!Vector256.EqualsAll(near.AsInt32(), Vector256<int>.AllBitsSet))
            {
                uint far = ~near.ExtractMostSignificantBits() & 0xFFu;
                while (far != 0)
                {
                    int lane = System.Numerics.BitOperations.TrailingZeroCount(far);
                    far &= far - 1;
                    scalar += JensenShannonKernel.Term(xp[i0 + lane], xq[i0 + lane], norm);
                }
            }
        }

        for (int i = i0; i < xp.Length; i++)
        {
            scalar += JensenShannonKernel.Term(xp[i], xq[i], norm);
        }

        return Vector256.Sum(acc) + scalar;
    }

    private static Vector256<float> Series(Vector256<float> d)
    {
        var r = Vector256.Create(1f / 46080f);
        r = Vector256.FusedMultiplyAdd(r, d, Vector256.Create(-1f / 5760f));
        r = Vector256.FusedMultiplyAdd(r, d, Vector256.Create(1f / 1152f));
        r = Vector256.FusedMultiplyAdd(r, d, Vector256.Create(-1f / 192f));
        r = Vector256.FusedMultiplyAdd(r, d, Vector256.Create(1f / 32f));
        r = Vector256.FusedMultiplyAdd(r, d, Vector256.Create(-1f / 8f));
        r = Vector256.FusedMultiplyAdd(r, d, Vector256.Create(1f / 4f));
        return r * d * d;
    }
}
