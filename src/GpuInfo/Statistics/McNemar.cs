namespace GpuInfo;

/// <summary>
/// McNemar's exact test of two paired classifiers (two models' right and wrong answers on the same documents): of the
/// documents where they disagree, <c>b</c> that only the first gets right and <c>c</c> only the second, the two-sided
/// p-value of b and c under "either is as likely": 2 · P[X ≤ min(b, c)] for X ~ Binomial(b + c, ½), at most 1, as
/// statsmodels' <c>mcnemar(table, exact=True)</c> and SciPy's <c>binomtest(b, b + c).pvalue</c> give it.
/// </summary>
public static class McNemar
{
    /// <summary>The exact two-sided p-value; 1 where the two never disagree.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative count.</exception>
    public static double ExactP(long onlyFirst, long onlySecond)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(onlyFirst);
        ArgumentOutOfRangeException.ThrowIfNegative(onlySecond);
        long n = onlyFirst + onlySecond, k = Math.Min(onlyFirst, onlySecond);
        if (n == 0 || 2 * k == n)
        {
            return 1;
        }

        // Σ_{i ≤ k} C(n, i) / 2^n in logs (2^-n is below a double's range from n = 1075): each term from the one before,
        // summed from the largest (the i = k term) down, where the terms fall.
        double logTerm = -n * Math.Log(2);
        for (long i = 1; i <= k; i++)
        {
            logTerm += Math.Log(n - i + 1) - Math.Log(i);
        }

        double sum = 0, term = 1; // relative to the i = k term
        for (long i = k; i >= 0 && term > 1e-18 * sum; i--)
        {
            sum += term;
            term *= i / (double)(n - i + 1); // C(n, i - 1) / C(n, i)
        }

        return Math.Min(1, 2 * Math.Exp(logTerm + Math.Log(sum)));
    }
}
