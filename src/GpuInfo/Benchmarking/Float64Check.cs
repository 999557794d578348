namespace GpuInfo.Benchmarking;

/// <summary>Plain float64 definitions of the benchmarked measures for one row, used to verify results.</summary>
internal static class Float64Check
{
    public static (double Lse, double Entropy) Row(ReadOnlySpan<float> x)
    {
        double m = double.NegativeInfinity;
        foreach (float v in x)
        {
            m = Math.Max(m, v);
        }

        double s = 0;
        foreach (float v in x)
        {
            s += Math.Exp(v - m);
        }

        double logS = Math.Log(s), h = 0;
        foreach (float v in x)
        {
            double lp = v - m - logS;
            h -= Math.Exp(lp) * lp;
        }

        return (m + logS, h);
    }

    public static (double Kl, double Js) Pair(ReadOnlySpan<float> p, ReadOnlySpan<float> q)
    {
        var r = Float64PairRow.Compute(p, q, 1, -1);
        return (r.Kl, r.Js);
    }

    public static double RelativeError(double expected, double actual, double floor) =>
        Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), floor);
}
