namespace GpuInfo.Statistics;

/// <summary>
/// The regularized upper incomplete gamma function Q(a, x) = Γ(a, x)/Γ(a), for the chi-squared
/// survival function (Q(k/2, x/2) at k degrees of freedom): its series below x = a + 1 and its
/// continued fraction (modified Lentz) above, with ln Γ from Lanczos' approximation (g = 7, nine
/// terms). Replaces MathNet.Numerics, whose 1.6 MB assembly the G-test's p-value alone used.
/// </summary>
internal static class RegularizedGamma
{
    private const int MaxTerms = 1_000_000;

    private static readonly double[] Lanczos =
    [
        0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
        -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
        1.5056327351493116e-7,
    ];

    /// <summary>Q(a, x) for a &gt; 0, x ≥ 0 (1 at x = 0, 0 at x = +∞).</summary>
    public static double Upper(double a, double x)
    {
        if (!(a > 0) || double.IsPositiveInfinity(a))
        {
            throw new ArgumentOutOfRangeException(nameof(a), $"Q(a, x) needs a finite a > 0; got a = {a}.");
        }

        if (!(x >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(x), $"Q(a, x) needs x >= 0; got x = {x}.");
        }

        if (x == 0)
        {
            return 1;
        }

        if (double.IsPositiveInfinity(x))
        {
            return 0;
        }

        return x < a + 1 ? 1 - LowerSeries(a, x) : UpperFraction(a, x);
    }

    /// <summary>ln Γ(a) for a &gt; 0 (reflection below 0.5).</summary>
    public static double LogGamma(double a)
    {
        if (a < 0.5)
        {
            return Math.Log(Math.PI / Math.Sin(Math.PI * a)) - LogGamma(1 - a);
        }

        a -= 1;
        double sum = Lanczos[0];
        for (int i = 1; i < Lanczos.Length; i++)
        {
            sum += Lanczos[i] / (a + i);
        }

        double t = a + 7.5;
        return (0.5 * Math.Log(2 * Math.PI)) + ((a + 0.5) * Math.Log(t)) - t + Math.Log(sum);
    }

    /// <summary>x^a e^(-x) / Γ(a), the factor both expansions share.</summary>
    private static double Prefactor(double a, double x) => Math.Exp((a * Math.Log(x)) - x - LogGamma(a));

    /// <summary>P(a, x) = x^a e^(-x)/Γ(a) · Σ x^n / (a (a+1) ... (a+n)), converging fast for x &lt; a + 1.</summary>
    private static double LowerSeries(double a, double x)
    {
        double term = 1 / a, sum = term;
        for (int n = 1; n < MaxTerms && Math.Abs(term) > Math.Abs(sum) * 1e-17; n++)
        {
            term *= x / (a + n);
            sum += term;
        }

        return sum * Prefactor(a, x);
    }

    /// <summary>Q(a, x) = x^a e^(-x)/Γ(a) · 1/(x + 1 - a - 1·(1 - a)/(x + 3 - a - 2·(2 - a)/(x + 5 - a - ...))), for x ≥ a + 1.</summary>
    private static double UpperFraction(double a, double x)
    {
        const double tiny = 1e-300;
        double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
        for (int i = 1; i < MaxTerms; i++)
        {
            double an = -i * (i - a);
            b += 2;
            d = (an * d) + b;
            d = Math.Abs(d) < tiny ? tiny : d;
            c = b + (an / c);
            c = Math.Abs(c) < tiny ? tiny : c;
            d = 1 / d;
            double step = d * c;
            h *= step;
            if (Math.Abs(step - 1) < 1e-16)
            {
                break;
            }
        }

        return Prefactor(a, x) * h;
    }
}
