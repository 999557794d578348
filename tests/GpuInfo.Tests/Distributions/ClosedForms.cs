namespace GpuInfo.Tests.Distributions;

internal static class ClosedForms
{
    /// <summary>Binary entropy in bits.</summary>
    public static double H2(double p) => p <= 0 || p >= 1 ? 0 : -(p * Math.Log2(p)) - ((1 - p) * Math.Log2(1 - p));

    /// <summary>The inverse of H2 on [0, ½] by bisection.</summary>
    public static double H2Inverse(double h)
    {
        double lo = 0, hi = 0.5;
        for (int i = 0; i < 200; i++)
        {
            double mid = 0.5 * (lo + hi);
            (lo, hi) = H2(mid) < h ? (mid, hi) : (lo, mid);
        }

        return 0.5 * (lo + hi);
    }

    /// <summary>Binary convolution a ⋆ p = a(1-p) + (1-a)p.</summary>
    public static double Star(double a, double p) => a * (1 - p) + (1 - a) * p;

    /// <summary>Doubly symmetric binary source: X ~ Bern(½), Y = X ⊕ Bern(p).</summary>
    public static JointDistribution Dsbs(double p) =>
        JointDistribution.FromWeights(new[,] { { (1 - p) / 2, p / 2 }, { p / 2, (1 - p) / 2 } });
}
