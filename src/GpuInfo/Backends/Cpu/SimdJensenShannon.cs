using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using GpuInfo.Backends.Cpu.Lanes;
using GpuInfo.Kernels;

namespace GpuInfo.Backends.Cpu;

/// <summary>
/// The second pass of compare on the CPU: Jensen-Shannon and total variation. Entries with
/// |log p - log q| &lt; ½ (almost all, when comparing a model with its quantization) take the
/// vectorised series; the rest take the kernels' scalar <see cref="JensenShannonKernel.Terms"/>.
/// </summary>
internal static class SimdJensenShannon<TV>
    where TV : struct, ILanes<TV>
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static PairTerms Slice(in RowsView p, in RowsView q, long row, int begin, int end, float invT, JsNormalizers norm)
    {
        float js = 0f, tv = 0f;
        var scratchP = BlockLoader.ScratchP;
        var scratchQ = BlockLoader.ScratchQ;
        for (int b = begin; b < end; b += BlockLoader.BlockSize)
        {
            int n = Math.Min(BlockLoader.BlockSize, end - b);
            var terms = Block(BlockLoader.Load(p, row, b, n, scratchP), BlockLoader.Load(q, row, b, n, scratchQ), invT, norm);
            js += terms.Js;
            tv += terms.Tv;
        }

        return new PairTerms(js, tv);
    }

    private static PairTerms Block(ReadOnlySpan<float> xp, ReadOnlySpan<float> xq, float invT, JsNormalizers norm)
    {
        var (js, tv) = VectorSum(xp, xq, invT, norm, out int done, out bool anyFar);
        if (anyFar)
        {
            var far = FarLanes(xp[..done], xq, invT, norm);
            js += far.Js;
            tv += far.Tv;
        }

        for (int i = done; i < xp.Length; i++)
        {
            var t = JensenShannonKernel.Terms(xp[i], xq[i], norm);
            js += t.Js;
            tv += t.Tv;
        }

        return new PairTerms(js, tv);
    }

    /// <summary>The near lanes' series over whole vectors (<paramref name="done"/> columns); whether any lane was far (no call in the loop).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static (float Js, float Tv) VectorSum(ReadOnlySpan<float> xp, ReadOnlySpan<float> xq, float invT, JsNormalizers norm, out int done, out bool anyFar)
    {
        ref float p0 = ref MemoryMarshal.GetReference(xp);
        ref float q0 = ref MemoryMarshal.GetReference(xq);
        var vInvT = TV.Create(invT);
        var vMaxP = TV.Create(norm.MaxP);
        var vLogSumP = TV.Create(norm.LogSumP);
        var vDiff = TV.Create(norm.LseDifference);
        var half = TV.Create(0.5f);
        TV js = default;
        TV tv = default;
        var allNear = TV.LessThan(default, half);
        int i0 = 0;
        for (; i0 <= xp.Length - TV.Count; i0 += TV.Count)
        {
            Prefetch.Ahead(ref p0, i0);
            Prefetch.Ahead(ref q0, i0);
            var xpv = TV.Load(ref p0, (nuint)i0);
            var xqv = TV.Load(ref q0, (nuint)i0);
            var d = (xpv - xqv) * vInvT - vDiff;
            var absD = TV.Abs(d);
            var near = TV.LessThan(absD, half);
            var halfP = half * TV.Exp((xpv - vMaxP) * vInvT - vLogSumP);
            js += TV.Select(near, halfP * Series(d), default);
            tv += TV.Select(near, halfP * absD * DifferenceSeries(d), default);
            allNear &= near;
        }

        done = i0;
        anyFar = TV.Bits(allNear) != TV.AllBits;
        return (TV.Sum(js), TV.Sum(tv));
    }

    /// <summary>The scalar terms of the lanes the vector loop left (found again with its own expression for d).</summary>
    private static PairTerms FarLanes(ReadOnlySpan<float> xp, ReadOnlySpan<float> xq, float invT, JsNormalizers norm)
    {
        ref float p0 = ref MemoryMarshal.GetReference(xp);
        ref float q0 = ref MemoryMarshal.GetReference(xq);
        var vInvT = TV.Create(invT);
        var vDiff = TV.Create(norm.LseDifference);
        var half = TV.Create(0.5f);
        float js = 0f, tv = 0f;
        for (int i0 = 0; i0 <= xp.Length - TV.Count; i0 += TV.Count)
        {
            var d = (TV.Load(ref p0, (nuint)i0) - TV.Load(ref q0, (nuint)i0)) * vInvT - vDiff;
            for (ulong far = ~TV.Bits(TV.LessThan(TV.Abs(d), half)) & TV.AllBits; far != 0; far &= far - 1)
            {
                int i = i0 + System.Numerics.BitOperations.TrailingZeroCount(far);
                var t = JensenShannonKernel.Terms(xp[i], xq[i], norm);
                js += t.Js;
                tv += t.Tv;
            }
        }

        return new PairTerms(js, tv);
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

    /// <summary>(1 − e^−d)/d as <see cref="JensenShannonKernel.DifferenceSeries"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV DifferenceSeries(TV d)
    {
        var r = TV.Create(-1f / 40320f);
        r = TV.MultiplyAdd(r, d, TV.Create(1f / 5040f));
        r = TV.MultiplyAdd(r, d, TV.Create(-1f / 720f));
        r = TV.MultiplyAdd(r, d, TV.Create(1f / 120f));
        r = TV.MultiplyAdd(r, d, TV.Create(-1f / 24f));
        r = TV.MultiplyAdd(r, d, TV.Create(1f / 6f));
        r = TV.MultiplyAdd(r, d, TV.Create(-1f / 2f));
        return TV.MultiplyAdd(r, d, TV.Create(1f));
    }
}
