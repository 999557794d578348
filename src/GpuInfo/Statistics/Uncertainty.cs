namespace GpuInfo;

/// <summary>
/// Means with their standard errors from running sums, as llama.cpp's perplexity tool reports them:
/// SE = sqrt((Σx²/n − x̄²)/(n − 1)), and covariances of two means from Σxy. With fewer than two
/// values the error is NaN (llama.cpp prints 0 up to ten values); a negative variance from rounding
/// counts as 0.
/// </summary>
public static class Uncertainty
{
    /// <summary>The mean of n values and the standard error of that mean.</summary>
    public static (double Mean, double Error) Mean(double sum, double sumOfSquares, long count)
    {
        double mean = sum / count;
        return (mean, count < 2 ? double.NaN : Math.Sqrt(Math.Max(0, (sumOfSquares / count) - (mean * mean)) / (count - 1)));
    }

    /// <summary>The covariance of the means of two paired series: (Σab/n − āb̄)/(n − 1).</summary>
    public static double CovarianceOfMeans(double sumA, double sumB, double sumAB, long count) =>
        count < 2 ? double.NaN : ((sumAB / count) - (sumA / count * (sumB / count))) / (count - 1);

    /// <summary>The standard error of a fraction f of n: sqrt(f(1 − f)/(n − 1)).</summary>
    public static double Fraction(long hits, long count)
    {
        double f = (double)hits / count;
        return count < 2 ? double.NaN : Math.Sqrt(f * (1 - f) / (count - 1));
    }
}
