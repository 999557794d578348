using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Measures;

/// <summary>
/// Each row's top-1 confidence and Brier score, Σ_k (p_k − [k = y])² (lm-evaluation-harness's
/// <c>brier_score</c>), against float64, written once and run per backend by thin subclasses (SIMD
/// CPU and ILGPU CPU always; CUDA and OpenCL when present, skipped otherwise): rows of every
/// sharpness and the edge rows where a careless formula loses the score (a near-certain correct
/// prediction, whose score is all in the tail; a masked target; ties; vocabulary 1), at a width
/// that splits rows over groups on a GPU, and compare's per-model scores and their paired difference.
/// </summary>
public abstract class CalibrationMeasureTests(EngineFixture fixture)
{
    private InfoEngine Engine => fixture.Engine;

    /// <summary>Rows and vocabulary of the main check, sized to the backend's speed.</summary>
    protected abstract Shape Shape { get; }

    /// <summary>Few rows and a wide vocabulary (each row split over several groups on a GPU).</summary>
    protected abstract Shape Wide { get; }

    /// <summary>Rows of every sharpness with the edge rows first; targets the argmax for about half.</summary>
    internal static (float[] X, long[] Y) Rows(TestData data, int rows, int vocab, float temperature = 1f)
    {
        var x = new float[rows * vocab];
        var y = new long[rows];
        for (int r = 0; r < rows; r++)
        {
            // The edge rows below (the first 8) on a flat row; the rest of every sharpness.
            double scale = r < 8 ? 0.3 : 0.1 + (8.0 * r / rows);
            for (int j = 0; j < vocab; j++)
            {
                x[(r * vocab) + j] = (float)(scale * data.Normal());
            }

            y[r] = data.Rng.NextDouble() < 0.5 ? Reference64.ArgMax(x.AsSpan(r * vocab, vocab)) : data.Rng.Next(vocab);
        }

        // Near-certain and right: the score is (tail/s)² + Σ_{k≠y} p_k², about 1e-5 to 1e-7 here (the tail
        // e^-6 to e^-9 whatever the vocabulary), where Σp² − p_y² formed from 1-sized terms would lose
        // the second part (float32's 6e-8 next to 1).
        float logVocab = MathF.Log(vocab);
        for (int r = 0; r < 4; r++)
        {
            int top = (r * 37) % vocab;
            x[(r * vocab) + top] += (logVocab + 6f + r) * temperature;
            y[r] = top;
        }

        // Near-certain and wrong: about 2.
        x[(4 * vocab) + 1] += (logVocab + 8f) * temperature;
        y[4] = 2;

        // A masked target (probability 0: 1 + Σp²), with other masked entries.
        x.AsSpan(5 * vocab, vocab / 3).Fill(float.NegativeInfinity);
        y[5] = 0;

        // The target ties with another entry at the max.
        int tie = Reference64.ArgMax(x.AsSpan(6 * vocab, vocab));
        x[(6 * vocab) + ((tie + 5) % vocab)] = x[(6 * vocab) + tie];
        y[6] = tie;

        y[7] = -100;
        return (x, y);
    }

    [Theory]
    [InlineData(1.0f)]
    [InlineData(0.6f)]
    [InlineData(1.7f)]
    public void Each_rows_confidence_and_brier_score_match_float64(float temperature)
    {
        Check(Shape, temperature);
        Check(Wide, temperature);
    }

    private void Check(Shape shape, float temperature)
    {
        var data = new TestData();
        int rows = shape.Rows, vocab = shape.Vocab;
        var (x, y) = Rows(data, rows, vocab, temperature);
        var totals = new PerplexityAccumulator();
        var brier = Poison.Floats(rows);
        var confidence = Poison.Floats(rows);
        Engine.Evaluate(Logits.Float32(x, vocab), new Targets(y), totals, new CrossEntropyOptions { Temperature = temperature },
            new EvaluationRows { Brier = brier, Confidence = confidence });

        var expected = new List<double>();
        string device = fixture.Device;
        for (int r = 0; r < rows; r++)
        {
            var p = Reference64.LogSoftmax(Reference64.Scaled(x.AsSpan(r * vocab, vocab), temperature)).Select(Math.Exp).ToArray();
            double top = p.Max();
            Assert.True(Math.Abs(confidence[r] - top) <= 1e-6 * top, $"row {r}: confidence {confidence[r]:R}, float64 {top:R} ({device}, {shape}, T {temperature}, {data})");
            if (y[r] == -100)
            {
                Assert.Equal(0f, brier[r]);
                continue;
            }

            double b = Reference64.Brier(Reference64.Scaled(x.AsSpan(r * vocab, vocab), temperature), (int)y[r]);
            expected.Add(b);
            Assert.True(Math.Abs(brier[r] - b) <= 1e-5 * b, $"row {r}: Brier {brier[r]:R}, float64 {b:R} ({device}, {shape}, T {temperature}, {data})");
        }

        Assert.InRange(expected[0], 1e-9, 1e-3); // the near-certain rows really are
        Assert.InRange(expected[4], 1.99, 2.0);
        double mean = expected.Average();
        double se = Math.Sqrt(expected.Sum(b => (b - mean) * (b - mean)) / (expected.Count - 1) / expected.Count);
        var c = totals.Calibration!;
        Assert.True(c.HasBrierScore);
        Assert.Equal(mean, c.BrierScore, 1e-6 * mean);
        Assert.Equal(se, c.BrierScoreError, 1e-4 * se);
    }

    [Fact]
    public void A_vocabulary_of_one_scores_zero()
    {
        var totals = new PerplexityAccumulator();
        var brier = Poison.Floats(3);
        Engine.Evaluate(Logits.Float32([1.5f, -40f, 1e30f], 1), new Targets([0, 0, 0]), totals, perRow: new EvaluationRows { Brier = brier });
        Assert.Equal(new float[3], brier);
        Assert.Equal(0, totals.Calibration!.BrierScore);
    }

    [Theory]
    [InlineData(1.0f)]
    [InlineData(0.8f)]
    public void Compare_scores_each_model_as_eval_does(float temperature)
    {
        var data = new TestData();
        int rows = Shape.Rows, vocab = Shape.Vocab;
        var (x, y) = Rows(data, rows, vocab);
        var q = data.Perturbed(x, 0.4);
        var totals = new ComparisonAccumulator();
        Engine.Compare(Logits.Float32(x, vocab), Logits.Float32(q, vocab), totals, new Targets(y), temperature: temperature);

        var scoredRows = Enumerable.Range(0, rows).Where(r => y[r] != -100).ToArray();
        var perModel = new List<double[]>();
        foreach (var (logits, bins) in new[] { (x, totals.CalibrationBase!), (q, totals.CalibrationTest!) })
        {
            var scored = scoredRows.Select(r => Reference64.Brier(Reference64.Scaled(logits.AsSpan(r * vocab, vocab), temperature), (int)y[r])).ToArray();
            perModel.Add(scored);
            Assert.Equal(scored.Average(), bins.BrierScore, 1e-6 * scored.Average());

            var alone = new PerplexityAccumulator();
            Engine.Evaluate(Logits.Float32(logits, vocab), new Targets(y), alone, new CrossEntropyOptions { Temperature = temperature });
            Assert.Equal(alone.Calibration!.BrierScore, bins.BrierScore, 1e-6 * bins.BrierScore);
        }

        // The difference, token by token, with its paired standard error (well below either score's own);
        // each token's scores hold float32's digits (1e-5 of them above), not the difference's.
        var d = perModel[1].Zip(perModel[0], (t, b) => t - b).ToArray();
        double mean = d.Average();
        double se = Math.Sqrt(d.Sum(v => (v - mean) * (v - mean)) / (d.Length - 1) / d.Length);
        Assert.Equal(mean, totals.MeanBrierDifference, 1e-5 * (perModel[0].Average() + perModel[1].Average()));
        Assert.Equal(se, totals.MeanBrierDifferenceError, 1e-4 * se);
        Assert.True(se < 0.5 * totals.CalibrationBase!.BrierScoreError, $"paired SE {se}, base's own {totals.CalibrationBase.BrierScoreError}");
    }
}
