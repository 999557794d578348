namespace GpuInfo.Tests.Reference;

/// <summary>Float32-vs-float64 comparisons with the seed in the message.</summary>
public static class Tolerance
{
    /// <summary>Asserts |actual - expected| ≤ abs + rel·|expected| (infinities must match exactly).</summary>
    public static void Close(double expected, double actual, double rel, double abs, string what)
    {
        if (double.IsInfinity(expected) || double.IsNaN(expected))
        {
            Assert.True(expected.Equals(actual), $"{what}: expected {expected}, got {actual}");
            return;
        }

        double err = Math.Abs(actual - expected);
        Assert.True(err <= abs + rel * Math.Abs(expected),
            $"{what}: expected {expected:R}, got {actual:R} (error {err:E2} > {abs:E1} + {rel:E1}·|expected|)");
    }
}
