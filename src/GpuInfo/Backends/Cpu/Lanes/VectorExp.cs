using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GpuInfo.Backends.Cpu.Lanes;

/// <summary>
/// e^x for float lanes, in float arithmetic. .NET's <c>Vector512.Exp</c>/<c>Vector256.Exp</c> widen
/// to double; the row passes are bound by exp, and this one runs at about twice their rate
/// (<c>VectorExpBenchmarks</c>; figures in benchmarks/results).
/// <para>
/// Method: e^x = 2^n · 2^r with n = round(x·log2 e) and r = x·log2 e − n computed with a two-part
/// log2 e (so r carries no cancellation error), 2^r by a degree-6 minimax polynomial on [−½, ½]
/// (relative error 1.6e-8 with its float32 coefficients; fitted by <c>fit_exp2.py</c>), and 2^n
/// applied with <c>vscalefps</c>, which handles overflow to +inf and underflow through subnormals
/// to 0. Within 2 ulp of float64 exp over the whole float range (tested; 1.1 ulp the worst seen).
/// x is first clamped to [−110, 89] (e^−110 rounds to 0, e^89 to +inf), so −inf gives 0 and +inf
/// gives +inf; NaN passes through.
/// </para>
/// <see cref="Exp2(Vector512{float})"/> is the same method for an argument already in base 2,
/// for sums whose caller folds log2 e into a multiply it does anyway: no clamps (±inf are fixed
/// up by <c>vfixupimmps</c>), no two-part reduction; within 2 ulp of 2^y for any float y.
/// Without AVX-512 (no <c>vscalefps</c>), <see cref="PortableExp2"/> builds 2^n in the exponent
/// field instead: same polynomial, same accuracy and specials (with AVX2 only, a one-off
/// single-thread harness measured the single-input row pass at 0.9 G elements/s per core with
/// .NET's exp and 1.3 with this one).
/// </summary>
internal static class VectorExp
{
    private const float Lower = -110f;
    private const float Upper = 89f;
    private const float Log2EHigh = 1.44269502162933349609375f;
    private const float Log2ELow = 1.925962989091e-8f;

    // 2^r ≈ 1 + C1 r + … + C6 r^6 on [−½, ½], minimax in relative error.
    private const float C1 = 0.6931471824645996f;
    private const float C2 = 0.24022647738456726f;
    private const float C3 = 0.055503323674201965f;
    private const float C4 = 0.00961843691766262f;
    private const float C5 = 0.0013398875016719103f;
    private const float C6 = 0.00015353361959569156f;

    /// <summary>vfixupimmps token table: −inf → +0 (token 8 for class 4), +inf → +inf (token 5 for class 5), all else kept.</summary>
    private const int InfinityFixups = (8 << 16) | (5 << 20);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        x = Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(Lower)), Vector512.Create(Lower), x);
        x = Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512.Create(Upper)), Vector512.Create(Upper), x);
        var n = Avx512F.RoundScale(x * Vector512.Create(Log2EHigh), 0);
        var r = Vector512.FusedMultiplyAdd(x, Vector512.Create(Log2EHigh), -n);
        r = Vector512.FusedMultiplyAdd(x, Vector512.Create(Log2ELow), r);
        return Avx512F.Scale(Polynomial(r), n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp2(Vector512<float> y)
    {
        var n = Avx512F.RoundScale(y, 0);
        return Avx512F.Fixup(Avx512F.Scale(Polynomial(y - n), n), y, Vector512.Create(InfinityFixups), 0);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        if (!Avx512F.VL.IsSupported)
        {
            return PortableExp(x);
        }

        var n = Reduce(x, out var r);
        return Avx512F.VL.Scale(Polynomial(r), n);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp2(Vector256<float> y)
    {
        if (!Avx512F.VL.IsSupported)
        {
            return PortableExp2(y);
        }

        var n = Vector256.Round(y);
        return Avx512F.VL.Fixup(Avx512F.VL.Scale(Polynomial(y - n), n), y, Vector256.Create(InfinityFixups), 0);
    }

    /// <summary>e^x on any hardware (the 8-lane fallback without AVX-512): as <see cref="Exp(Vector512{float})"/> with
    /// <see cref="PortableExp2"/>'s scaling.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> PortableExp(Vector256<float> x)
    {
        var n = Reduce(x, out var r);
        return Scale(Polynomial(r), n);
    }

    /// <summary>
    /// 2^y on any hardware: y clamped to [−151, 128] (NaN kept: the comparisons are false for it),
    /// 2^n applied as two normal powers of two 2^⌊n/2⌋·2^(n−⌊n/2⌋), so that subnormal results
    /// and overflow to +inf come out of the multiplications themselves.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> PortableExp2(Vector256<float> y)
    {
        y = Vector256.ConditionalSelect(Vector256.LessThan(y, Vector256.Create(-151f)), Vector256.Create(-151f), y);
        y = Vector256.ConditionalSelect(Vector256.GreaterThan(y, Vector256.Create(128f)), Vector256.Create(128f), y);
        var n = Vector256.Round(y);
        return Scale(Polynomial(y - n), n);
    }

    /// <summary>x clamped to [Lower, Upper]; returns n = round(x·log2 e) and r = x·log2 e − n (two-part log2 e).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Reduce(Vector256<float> x, out Vector256<float> r)
    {
        x = Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(Lower)), Vector256.Create(Lower), x);
        x = Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256.Create(Upper)), Vector256.Create(Upper), x);
        var n = Vector256.Round(x * Vector256.Create(Log2EHigh));
        r = Vector256.FusedMultiplyAdd(x, Vector256.Create(Log2EHigh), -n);
        r = Vector256.FusedMultiplyAdd(x, Vector256.Create(Log2ELow), r);
        return n;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Polynomial(Vector512<float> r)
    {
        var p = Vector512.FusedMultiplyAdd(Vector512.Create(C6), r, Vector512.Create(C5));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C4));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C3));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C2));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(C1));
        return Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Polynomial(Vector256<float> r)
    {
        var p = Vector256.FusedMultiplyAdd(Vector256.Create(C6), r, Vector256.Create(C5));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C4));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C3));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C2));
        p = Vector256.FusedMultiplyAdd(p, r, Vector256.Create(C1));
        return Vector256.FusedMultiplyAdd(p, r, Vector256<float>.One);
    }

    /// <summary>p·2^n for integral n in [−151, 128] (NaN lanes of n give NaN through p).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Scale(Vector256<float> p, Vector256<float> n)
    {
        var ni = Vector256.ConvertToInt32Native(n);
        var half = ni >> 1;
        var bias = Vector256.Create(127);
        var first = ((half + bias) << 23).AsSingle();
        var second = ((ni - half + bias) << 23).AsSingle();
        return p * first * second;
    }
}
