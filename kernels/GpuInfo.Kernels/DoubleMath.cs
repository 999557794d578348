using ILGPU;

namespace GpuInfo.Kernels;

/// <summary>
/// float64 functions computed the same way on every backend. ILGPU's PTX backend computes
/// Log(double) by CORDIC; the IB's I(T;Y) is a sum of large terms that cancel, so it needs logs
/// good to an ulp or two.
/// </summary>
public static class DoubleMath
{
    private const double Ln2 = 0.6931471805599453;
    private const double Sqrt2 = 1.4142135623730951;

    /// <summary>2^54: scales a subnormal into the normal range.</summary>
    private const double TwoTo54 = 18014398509481984.0;

    /// <summary>
    /// ln x for finite x &gt; 0: x = m·2^e with m in [√½, √2), ln m = 2·atanh(s), s = (m − 1)/(m + 1),
    /// |s| ≤ 0.172, by its series to s^21 (the next term is below 1e-17 of the result).
    /// </summary>
    public static double Log(double x)
    {
        ulong bits = Interop.FloatAsInt(x);
        int exponent = (int)((bits >> 52) & 0x7FF);
        int shift = 0;
        if (exponent == 0)
        {
            bits = Interop.FloatAsInt(x * TwoTo54);
            exponent = (int)((bits >> 52) & 0x7FF);
            shift = 54;
        }

        int e = exponent - 1023 - shift;
        double m = Interop.IntAsFloat((bits & 0x000F_FFFF_FFFF_FFFFUL) | 0x3FF0_0000_0000_0000UL);
        if (m >= Sqrt2)
        {
            m *= 0.5;
            e++;
        }

        double s = (m - 1) / (m + 1);
        double s2 = s * s;
        double series = 1.0 / 21;
        series = (series * s2) + (1.0 / 19);
        series = (series * s2) + (1.0 / 17);
        series = (series * s2) + (1.0 / 15);
        series = (series * s2) + (1.0 / 13);
        series = (series * s2) + (1.0 / 11);
        series = (series * s2) + (1.0 / 9);
        series = (series * s2) + (1.0 / 7);
        series = (series * s2) + (1.0 / 5);
        series = (series * s2) + (1.0 / 3);
        return (e * Ln2) + (2 * (s + (s * s2 * series)));
    }
}
