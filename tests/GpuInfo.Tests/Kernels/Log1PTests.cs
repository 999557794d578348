using GpuInfo.Kernels;

namespace GpuInfo.Tests.Kernels;

/// <summary>
/// The kernels' float32 log(1 + t) (a softmax tail's log) against float64, from 1e-30 to 3e38: within
/// a few ulps everywhere, its small-t branch without a log (CUDA's lg2.approx errs by ~1e-7 absolute).
/// </summary>
public class Log1PTests
{
    [Fact]
    public void Log1P_agrees_with_float64_to_a_few_ulps()
    {
        var rng = new Random(Environment.TickCount);
        var values = Enumerable.Range(0, 200_000).Select(_ => (float)Math.Pow(10, (rng.NextDouble() * 68) - 30))
            .Concat([0f, float.Epsilon, 1e-10f, 0.2499999f, 0.25f, 0.2500001f, 1f, 1e7f, float.MaxValue]);
        foreach (float t in values)
        {
            double expected = Log1P(t);
            float actual = SoftmaxMath.Log1P(t);
            Assert.True(Math.Abs(actual - expected) <= 3.6e-7 * expected, $"log1p({t:R}) = {expected:R}, got {actual:R}");
        }

        Assert.Equal(float.PositiveInfinity, SoftmaxMath.Log1P(float.PositiveInfinity));
        Assert.True(float.IsNaN(SoftmaxMath.Log1P(float.NaN)));
    }

    /// <summary>float64 log1p: log(u)·t/(u - 1) corrects the rounding of u = 1 + t.</summary>
    private static double Log1P(double t)
    {
        double u = 1 + t;
        return u == 1 ? t : Math.Log(u) * (t / (u - 1));
    }
}
