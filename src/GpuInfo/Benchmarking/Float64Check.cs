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
        var (lp0, _) = Row(p);
        var (lq0, _) = Row(q);
        double kl = 0, js = 0;
        for (int j = 0; j < p.Length; j++)
        {
            double lp = p[j] - lp0, lq = q[j] - lq0, pp = Math.Exp(lp), qq = Math.Exp(lq), m = 0.5 * (pp + qq);
            kl += pp * (lp - lq);
            js += (pp > 0 ? 0.5 * pp * Math.Log(pp / m) : 0) + (qq > 0 ? 0.5 * qq * Math.Log(qq / m) : 0);
        }

        return (kl, js);
    }

    public static double RelativeError(double expected, double actual, double floor) =>
        Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), floor);
}
