using GpuInfo.Statistics;

namespace GpuInfo.Tests.Distributions;

/// <summary>Q(a, x), the chi-squared survival behind the G-test's p-value, against mpmath and closed forms.</summary>
public sealed class RegularizedGammaTests
{
    /// <summary>
    /// From mpmath at 40 digits (<c>mpmath.gammainc(a, x, mpmath.inf, regularized=True)</c>, mpmath 1.3.0):
    /// the first three are the chi-squared 95% points at 1, 3 and 5 degrees of freedom (Q = 0.05); then
    /// both expansions, near and far tails, large a. (PyTorch 1.13's float64 gammaincc is off by 8e-11
    /// relative at Q(50.5, 40); this is within 1e-12 up to a = 500.)
    /// </summary>
    [Theory]
    [InlineData(0.5, 1.920729410347062, 0.050000000000000057)]
    [InlineData(1.5, 3.907363951625589, 0.050000000000000038)]
    [InlineData(2.5, 5.535248846758176, 0.050000000000000052)]
    [InlineData(0.5, 0.001, 0.96432940827032011)]
    [InlineData(0.5, 30.0, 9.4857375710738484e-15)]
    [InlineData(7.5, 3.0, 0.97974774671781337)]
    [InlineData(50.5, 40.0, 0.93903447477050436)]
    [InlineData(50.5, 90.0, 2.2440345622210745e-6)]
    [InlineData(500.0, 620.0, 2.8152332289542097e-7)]
    [InlineData(3.5, 200.0, 2.3852710811123278e-82)]
    [InlineData(12.0, 0.5, 0.99999999999967853)]
    [InlineData(5000.5, 5100.0, 0.080375175638983405)]
    [InlineData(0.5, 1e-10, 0.99998871620832942)]
    public void Matches_mpmath(double a, double x, double expected)
    {
        // x^a e^(-x)/Γ(a) is formed from a ln x - x - ln Γ(a), terms of size ~a ln a that cancel: its
        // rounding grows with a (1.5e-12 relative at a = 5000.5).
        double q = RegularizedGamma.Upper(a, x);
        double tolerance = Math.Max(1e-12, 1e-14 * a);
        Assert.True(Math.Abs(q - expected) <= tolerance * expected, $"Q({a}, {x}) = {q:R}, mpmath {expected:R}");
    }

    /// <summary>At whole a, Q(k, x) = e^(-x) Σ_{i&lt;k} x^i / i! (a sum of positive terms, exact to rounding).</summary>
    [Fact]
    public void Matches_the_poisson_sum_at_whole_a()
    {
        foreach (int k in new[] { 1, 2, 3, 5, 8, 13, 40, 100 })
        {
            foreach (double x in new[] { 0.01, 0.5, 1, 2.5, k - 0.5, k + 0.5, 2.0 * k, k + (6 * Math.Sqrt(k)) + 10 })
            {
                double term = Math.Exp(-x), sum = 0;
                for (int i = 0; i < k; i++)
                {
                    sum += term;
                    term *= x / (i + 1);
                }

                double q = RegularizedGamma.Upper(k, x);
                Assert.True(Math.Abs(q - sum) <= 1e-13 * sum, $"Q({k}, {x}) = {q:R}, sum {sum:R}");
            }
        }
    }

    [Fact]
    public void Ends_and_bad_arguments()
    {
        Assert.Equal(1, RegularizedGamma.Upper(3, 0));
        Assert.Equal(0, RegularizedGamma.Upper(3, double.PositiveInfinity));
        Assert.Equal("a", Assert.Throws<ArgumentOutOfRangeException>(() => RegularizedGamma.Upper(0, 1)).ParamName);
        Assert.Equal("a", Assert.Throws<ArgumentOutOfRangeException>(() => RegularizedGamma.Upper(double.PositiveInfinity, 1)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentOutOfRangeException>(() => RegularizedGamma.Upper(1, -1)).ParamName);
        Assert.Equal("x", Assert.Throws<ArgumentOutOfRangeException>(() => RegularizedGamma.Upper(1, double.NaN)).ParamName);
        Assert.Equal(Math.Log(24), RegularizedGamma.LogGamma(5), 13);
        Assert.Equal(0.5 * Math.Log(Math.PI), RegularizedGamma.LogGamma(0.5), 13);
    }
}
