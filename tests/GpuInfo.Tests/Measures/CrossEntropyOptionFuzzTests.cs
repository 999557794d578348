using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Measures;

/// <summary>
/// Cross-entropy under random combinations of its options, awkward ones included (temperatures and
/// smoothings out of range or NaN, class weights zero, negative, NaN or huge, ignore indices inside the
/// vocabulary, -inf logits): each call throws an argument or input error, or its per-row losses, sum and
/// gradient match the float64 reference. On the SIMD path and on the kernels (ILGPU's CPU accelerator).
/// </summary>
public sealed class CrossEntropyOptionFuzzTests
{
    private static readonly float[] Awkward = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -1, 0, 1e-30f, 1e30f];

    [Theory]
    [InlineData("cpu", 600)]
    [InlineData("ilgpu-cpu", 60)]
    public void Random_options_give_the_reference_or_an_argument_error(string device, int trials)
    {
        using var engine = new InfoEngine(new InfoEngineOptions { Device = device });
        int computed = 0, refused = 0;
        for (int trial = 0; trial < trials; trial++)
        {
            var rng = new Random(14000 + trial);
            int rows = rng.Next(1, 6), v = rng.Next(1, 40);
            var data = new TestData(14000 + trial);
            var x = data.Logits(rows, v);
            for (int i = 0; i < x.Length; i++)
            {
                if (rng.Next(15) == 0 && i % v != 0)
                {
                    x[i] = float.NegativeInfinity;
                }
            }

            float Pick(float usual) => rng.Next(5) == 0 ? Awkward[rng.Next(Awkward.Length)] : usual;
            var weights = rng.Next(3) == 0 ? Enumerable.Range(0, rng.Next(4) == 0 ? v + 1 : v).Select(_ => rng.Next(6) == 0 ? Awkward[rng.Next(Awkward.Length)] : (float)rng.NextDouble() * 2).ToArray() : null;
            var options = new CrossEntropyOptions
            {
                IgnoreIndex = rng.Next(3) == 0 ? rng.Next(v) : -100,
                LabelSmoothing = Pick(rng.Next(2) == 0 ? 0 : (float)rng.NextDouble()),
                ZLoss = Pick(rng.Next(2) == 0 ? 0 : 1e-3f),
                Temperature = Pick((float)(0.3 + (rng.NextDouble() * 2))),
                ClassWeights = weights,
                Reduction = (Reduction)rng.Next(3),
            };
            var y = Enumerable.Range(0, rows).Select(r => rng.Next(8) == 0 ? -100 : rng.Next(v)).ToArray();
            for (int r = 0; r < rows; r++)
            {
                // A target on a masked entry is an infinite loss by definition; that case has its own test.
                while (y[r] >= 0 && float.IsNegativeInfinity(x[(r * v) + y[r]]))
                {
                    y[r] = (y[r] + 1) % v;
                }
            }

            var loss = new float[rows];
            var gradient = new float[rows * v];
            CrossEntropyResult result;
            try
            {
                result = engine.CrossEntropyWithGradient(Logits.Float32(x, v), y, gradient, options, loss);
            }
            catch (Exception e) when (e is ArgumentException or InvalidInputException)
            {
                refused++;
                continue;
            }

            computed++;
            string what = $"seed {14000 + trial} on {device}: {options} weights [{string.Join(", ", weights ?? [])}] targets [{string.Join(", ", y)}]";
            Check(x, v, y, options, loss, gradient, result, what);
        }

        Assert.True(computed > 0 && refused > 0, $"the fuzzer should reach both ({computed} computed, {refused} refused)");
    }

    private static void Check(float[] x, int v, int[] y, CrossEntropyOptions o, float[] loss, float[] gradient, CrossEntropyResult result, string what)
    {
        int rows = y.Length;
        double weightSum = 0, sum = 0;
        var expectedLoss = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            if (y[r] == o.IgnoreIndex)
            {
                continue;
            }

            weightSum += o.ClassWeights?[y[r]] ?? 1.0;
            var z = Reference64.Scaled(x.AsSpan(r * v, v), o.Temperature);
            expectedLoss[r] = Reference64.CrossEntropy(z, y[r], o.LabelSmoothing, o.ClassWeights, o.ZLoss);
            sum += expectedLoss[r];
        }

        double scale = o.Reduction switch { Reduction.Mean => 1 / weightSum, Reduction.Sum => 1, _ => 1 };
        for (int r = 0; r < rows; r++)
        {
            Tolerance.Close(expectedLoss[r], loss[r], 2e-5, 2e-5, $"{what}: loss of row {r}");
            if (y[r] == o.IgnoreIndex)
            {
                Assert.All(gradient.AsSpan(r * v, v).ToArray(), g => Assert.Equal(0f, g));
                continue;
            }

            var z = Reference64.Scaled(x.AsSpan(r * v, v), o.Temperature);
            double rowScale = (o.Reduction == Reduction.None ? 1 : scale) / o.Temperature;
            var expectedGradient = Reference64.Gradient(z, y[r], o.LabelSmoothing, o.ClassWeights, o.ZLoss, o.Temperature, rowScale * o.Temperature);
            var lp = Reference64.LogSoftmax(z);
            double e = o.LabelSmoothing, weightY = o.ClassWeights?[y[r]] ?? 1, classWeightSum = o.ClassWeights?.Sum(w => (double)w) ?? v;
            double ofProb = Math.Abs(((1 - e) * weightY) + (e * classWeightSum / v) + (2 * o.ZLoss * Reference64.Lse(z)));
            for (int j = 0; j < v; j++)
            {
                // The entry is a difference of terms (p_j·ofProb, e·w_j/V, the target's (1-e)·w_y): float32 rounds each,
                // so the error scales with the terms, not with their difference (near 0 where they cancel).
                double terms = Math.Abs(rowScale) * ((ofProb * Math.Exp(lp[j])) + (e * (o.ClassWeights?[j] ?? 1) / v) + (j == y[r] ? (1 - e) * weightY : 0));
                Tolerance.Close(expectedGradient[j], gradient[(r * v) + j], 2e-4, 2e-5 + (2e-6 * terms), $"{what}: gradient [{r}, {j}]");
            }
        }

        Tolerance.Close(sum, result.Sum, 2e-5, 2e-5, $"{what}: sum");
    }
}
