using GpuInfo.Kernels;

namespace GpuInfo.Tests.Kernels;

/// <summary>
/// The kernels' float32 log(1 + t) (a softmax tail's log, and KL's h(B) = B - log(1 + B)) against
/// float64, from -½ to 3e38: within a few ulps everywhere, its small-t branch without a log (CUDA's
/// lg2.approx errs by ~1e-7 absolute).
/// </summary>
public class Log1PTests
{
    [Fact]
    public void Log1P_agrees_with_float64_to_a_few_ulps()
    {
        var rng = new Random(Environment.TickCount);
        var values = Enumerable.Range(0, 200_000).Select(_ => (float)Math.Pow(10, (rng.NextDouble() * 68) - 30))
            .Concat(Enumerable.Range(0, 20_000).Select(_ => (float)(-0.5 * rng.NextDouble())))
            .Concat([0f, float.Epsilon, -float.Epsilon, 1e-10f, -0.4999999f, 0.2499999f, 0.25f, 0.2500001f, 1f, 1e7f, float.MaxValue]);
        foreach (float t in values)
        {
            double expected = Log1P(t);
            float actual = SoftmaxMath.Log1P(t);
            Assert.True(Math.Abs(actual - expected) <= 3.6e-7 * Math.Abs(expected), $"log1p({t:R}) = {expected:R}, got {actual:R}");
        }

        Assert.Equal(float.PositiveInfinity, SoftmaxMath.Log1P(float.PositiveInfinity));
        Assert.True(float.IsNaN(SoftmaxMath.Log1P(float.NaN)));
    }

    [Fact]
    public void H_agrees_with_float64_where_the_curvature_form_uses_it()
    {
        var rng = new Random(Environment.TickCount);
        foreach (float b in Enumerable.Range(0, 50_000).Select(_ => (float)((rng.NextDouble() - 0.5) * Math.Pow(10, -4 * rng.NextDouble()))).Concat([0.5f, -0.5f, 0.1f, -0.1f, 1e-6f, 0f]))
        {
            double expected = Math.Abs(b) < 0.01 ? b * b * (0.5 - (b / 3) + (b * b / 4) - (b * b * b / 5) + (b * b * b * b / 6)) : b - Log1P(b);
            Assert.True(Math.Abs(KlMath.H(b) - expected) <= 1e-6 * expected, $"h({b:R}) = {expected:R}, got {KlMath.H(b):R}");
        }
    }

    /// <summary>float64 log1p: log(u)·t/(u - 1) corrects the rounding of u = 1 + t.</summary>
    private static double Log1P(double t)
    {
        double u = 1 + t;
        return u == 1 ? t : Math.Log(u) * (t / (u - 1));
    }
}
