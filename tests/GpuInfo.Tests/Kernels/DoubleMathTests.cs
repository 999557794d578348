using GpuInfo.Kernels;

namespace GpuInfo.Tests.Kernels;

/// <summary>The kernels' float64 log against Math.Log, over the whole positive range, subnormals included.</summary>
public class DoubleMathTests
{
    [Fact]
    public void Log_agrees_with_Math_Log_to_a_few_ulps()
    {
        var rng = new Random(Environment.TickCount);
        var values = Enumerable.Range(0, 200_000).Select(_ => Math.Pow(2, (rng.NextDouble() * 2100) - 1074) * (1 + rng.NextDouble()))
            .Concat([double.Epsilon, 3 * double.Epsilon, 2.2250738585072014e-308, 2.225073858507201e-308, double.MaxValue, 1, 2, 0.5,
                Math.Sqrt(2), Math.BitDecrement(Math.Sqrt(2)), Math.Sqrt(0.5), Math.BitDecrement(Math.Sqrt(0.5)), Math.BitIncrement(1.0), Math.BitDecrement(1.0), 1e-9, 0.999999])
            .Where(x => x > 0 && double.IsFinite(x));
        foreach (double x in values)
        {
            double expected = Math.Log(x), actual = DoubleMath.Log(x);
            Assert.True(Math.Abs(actual - expected) <= 4.5e-16 * Math.Abs(expected), $"ln({x:R}) = {expected:R}, got {actual:R}");
        }
    }
}
