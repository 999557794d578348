using GpuInfo.Backends.Cpu.Blas;

namespace GpuInfo.Tests.Distributions;

/// <summary>The dense IB's float64 products on the CPU, on the system BLAS's dgemm and on the managed kernels, against a plain float64 loop.</summary>
public sealed class CpuIbProductsTests
{
    [Theory]
    [InlineData(false, 37, 1043, 5)]
    [InlineData(true, 37, 1043, 5)]
    [InlineData(false, 300, 77, 13)]
    [InlineData(true, 300, 77, 13)]
    [InlineData(false, 1, 1, 1)]
    public void Products_match_a_float64_loop(bool managed, int x, int y, int t)
    {
        if (!managed && NativeDgemm.TryLoad(2) is null)
        {
            Assert.Skip(NativeSgemm.Missing);
        }

        int seed = Environment.TickCount;
        var rng = new Random(seed);
        var weights = new double[x, y];
        for (int i = 0; i < x; i++)
        {
            for (int j = 0; j < y; j++)
            {
                // Row 1 has no mass (p(y|x) = 0 there), and some entries are exactly 0.
                weights[i, j] = i == 1 || (j > 0 && rng.Next(7) == 0) ? 0 : 1e-3 + rng.NextDouble();
            }
        }

        var joint = JointDistribution.FromWeights(weights);
        using var products = new CpuIbProducts(joint, 2, managedOnly: managed);
        Assert.Equal(managed, products.Name == "cpu, float64 SIMD");
        var logDecoder = Enumerable.Range(0, t * y).Select(_ => Math.Log(rng.NextDouble())).ToArray();
        logDecoder[^1] = -1e300; // log 0 as the solver writes it
        var encoderT = Enumerable.Range(0, t * x).Select(_ => rng.NextDouble()).ToArray();

        var cross = new double[x * t];
        products.CrossTerms(logDecoder, t, cross);
        for (int i = 0; i < x; i++)
        {
            double px = Enumerable.Range(0, y).Sum(j => joint.P[i * y + j]);
            for (int k = 0; k < t; k++)
            {
                double expected = 0;
                for (int j = 0; j < y; j++)
                {
                    expected += (px > 0 ? joint.P[i * y + j] / joint.Px[i] : 0) * logDecoder[k * y + j];
                }

                Assert.True(Math.Abs(cross[i * t + k] - expected) <= 1e-12 * (1 + Math.Abs(expected)), $"seed {seed}: cross term [{i}, {k}] {cross[i * t + k]} vs {expected}");
            }
        }

        var numerator = new double[t * y];
        products.DecoderNumerator(encoderT, t, numerator);
        for (int k = 0; k < t; k++)
        {
            for (int j = 0; j < y; j++)
            {
                double expected = 0;
                for (int i = 0; i < x; i++)
                {
                    expected += encoderT[k * x + i] * joint.P[i * y + j];
                }

                Assert.True(Math.Abs(numerator[k * y + j] - expected) <= 1e-13 * (1 + Math.Abs(expected)), $"seed {seed}: numerator [{k}, {j}] {numerator[k * y + j]} vs {expected}");
            }
        }
    }
}
