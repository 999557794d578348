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

    /// <summary>Σ_k (p_k − [k = target])² of softmax(x).</summary>
    public static double Brier(ReadOnlySpan<float> x, int target)
    {
        double lse = Row(x).Lse, sum = 0;
        for (int k = 0; k < x.Length; k++)
        {
            double d = Math.Exp(x[k] - lse) - (k == target ? 1 : 0);
            sum += d * d;
        }

        return sum;
    }

    public static (double Kl, double Js, double Tv) Pair(ReadOnlySpan<float> p, ReadOnlySpan<float> q)
    {
        var r = Float64PairRow.Compute(p, q, 1, -1);
        return (r.Kl, r.Js, r.Tv);
    }

    public static double RelativeError(double expected, double actual, double floor) =>
        Math.Abs(actual - expected) / Math.Max(Math.Abs(expected), floor);
}
