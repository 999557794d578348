using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using GpuInfo.Backends.Cpu.Lanes;
using GpuInfo.Kernels;

namespace GpuInfo.Backends.Cpu;

/// <summary>
/// The Jensen-Shannon second pass on the CPU. Entries with |log p - log q| &lt; ½ (almost all, when
/// comparing a model with its quantization) take the vectorised series; the rest take the kernels'
/// scalar <see cref="JensenShannonKernel.Term"/>.
/// </summary>
internal static class SimdJensenShannon<TV>
    where TV : struct, ILanes<TV>
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
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

    private static float Block(ReadOnlySpan<float> xp, ReadOnlySpan<float> xq, float invT, JsNormalizers norm)
    {
        float sum = VectorSum(xp, xq, invT, norm, out int done, out bool anyFar);
        if (anyFar)
        {
            sum += FarLanes(xp[..done], xq, invT, norm);
        }

        for (int i = done; i < xp.Length; i++)
        {
            sum += JensenShannonKernel.Term(xp[i], xq[i], norm);
        }

        return sum;
    }

    /// <summary>The near lanes' series over whole vectors (<paramref name="done"/> columns); whether any lane was far (no call in the loop).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float VectorSum(ReadOnlySpan<float> xp, ReadOnlySpan<float> xq, float invT, JsNormalizers norm, out int done, out bool anyFar)
    {
        ref float p0 = ref MemoryMarshal.GetReference(xp);
        ref float q0 = ref MemoryMarshal.GetReference(xq);
        var vInvT = TV.Create(invT);
        var vMaxP = TV.Create(norm.MaxP);
        var vLogSumP = TV.Create(norm.LogSumP);
        var vDiff = TV.Create(norm.LseDifference);
        var half = TV.Create(0.5f);
        TV acc = default;
        var allNear = TV.LessThan(default, half);
        int i0 = 0;
        for (; i0 <= xp.Length - TV.Count; i0 += TV.Count)
        {
            Prefetch.Ahead(ref p0, i0);
            Prefetch.Ahead(ref q0, i0);
            var xpv = TV.Load(ref p0, (nuint)i0);
            var xqv = TV.Load(ref q0, (nuint)i0);
            var d = (xpv - xqv) * vInvT - vDiff;
            var near = TV.LessThan(TV.Abs(d), half);
            var term = half * TV.Exp((xpv - vMaxP) * vInvT - vLogSumP) * Series(d);
            acc += TV.Select(near, term, default);
            allNear &= near;
        }

        done = i0;
        anyFar = TV.Bits(allNear) != TV.AllBits;
        return TV.Sum(acc);
    }

    /// <summary>The scalar terms of the lanes the vector loop left (found again with its own expression for d).</summary>
    private static float FarLanes(ReadOnlySpan<float> xp, ReadOnlySpan<float> xq, float invT, JsNormalizers norm)
    {
        ref float p0 = ref MemoryMarshal.GetReference(xp);
        ref float q0 = ref MemoryMarshal.GetReference(xq);
        var vInvT = TV.Create(invT);
        var vDiff = TV.Create(norm.LseDifference);
        var half = TV.Create(0.5f);
        float sum = 0f;
        for (int i0 = 0; i0 <= xp.Length - TV.Count; i0 += TV.Count)
        {
            var d = (TV.Load(ref p0, (nuint)i0) - TV.Load(ref q0, (nuint)i0)) * vInvT - vDiff;
            for (ulong far = ~TV.Bits(TV.LessThan(TV.Abs(d), half)) & TV.AllBits; far != 0; far &= far - 1)
            {
                int i = i0 + System.Numerics.BitOperations.TrailingZeroCount(far);
                sum += JensenShannonKernel.Term(xp[i], xq[i], norm);
            }
        }

        return sum;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Series(TV d)
    {
        var r = TV.Create(1f / 46080f);
        r = TV.MultiplyAdd(r, d, TV.Create(-1f / 5760f));
        r = TV.MultiplyAdd(r, d, TV.Create(1f / 1152f));
        r = TV.MultiplyAdd(r, d, TV.Create(-1f / 192f));
        r = TV.MultiplyAdd(r, d, TV.Create(1f / 32f));
        r = TV.MultiplyAdd(r, d, TV.Create(-1f / 8f));
        r = TV.MultiplyAdd(r, d, TV.Create(1f / 4f));
        return r * d * d;
    }
}
