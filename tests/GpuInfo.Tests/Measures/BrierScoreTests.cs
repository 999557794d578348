using System.Text.Json.Nodes;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;
using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Measures;

/// <summary>
/// The Brier score, Σ_k (p_k − [k = y])² per token (lm-evaluation-harness's <c>brier_score</c>):
/// each row's value from the pass against float64 on every backend, on rows of every sharpness and
/// the edge rows where a careless formula loses it (a near-certain correct prediction, whose score is
/// all in the tail; a masked target; ties; vocabulary 1), compare's per-model scores, and exact
/// merges through partials, with version 6 partials read without it.
/// </summary>
public sealed class BrierScoreTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static double Brier(ReadOnlySpan<float> x, int target, double temperature)
    {
        var p = Reference64.LogSoftmax(Reference64.Scaled(x, temperature)).Select(Math.Exp).ToArray();
        double sum = 0;
        for (int k = 0; k < p.Length; k++)
        {
            double d = p[k] - (k == target ? 1 : 0);
            sum += d * d;
        }

        return sum;
    }

    /// <summary>Rows of every sharpness with the edge rows first; targets the argmax for about half.</summary>
    private static (float[] X, long[] Y) Rows(TestData data, int rows, int vocab, float temperature = 1f)
    {
        var x = new float[rows * vocab];
        var y = new long[rows];
        for (int r = 0; r < rows; r++)
        {
            double scale = 0.1 + (8.0 * r / rows);
            for (int j = 0; j < vocab; j++)
            {
                x[(r * vocab) + j] = (float)(scale * data.Normal());
            }

            y[r] = data.Rng.NextDouble() < 0.5 ? Reference64.ArgMax(x.AsSpan(r * vocab, vocab)) : data.Rng.Next(vocab);
        }

        // Near-certain and right: the score is (tail/s)² + Σ_{k≠y} p_k², 1e-4 to 1e-6 here, where
        // Σp² − p_y² formed from 1-sized terms would lose the second part (float32's 6e-8 next to 1).
        for (int r = 0; r < 4; r++)
        {
            int top = (r * 37) % vocab;
            x[(r * vocab) + top] += (11f + r) * temperature;
            y[r] = top;
        }

        // Near-certain and wrong: about 2.
        x[(4 * vocab) + 1] += 14f * temperature;
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
    [InlineData("cpu", 1.0f)]
    [InlineData("cpu", 0.6f)]
    [InlineData("ilgpu-cpu", 1.0f)]
    [InlineData("ilgpu-cpu", 1.7f)]
    public void Each_rows_brier_score_and_their_mean_match_float64(string device, float temperature)
    {
        var data = new TestData();
        const int rows = 131, vocab = 1531;
        var (x, y) = Rows(data, rows, vocab, temperature);
        using var engine = new InfoEngine(new InfoEngineOptions { Device = device });
        var totals = new PerplexityAccumulator();
        var brier = new float[rows];
        engine.Evaluate(Logits.Float32(x, vocab), new Targets(y), totals, new CrossEntropyOptions { Temperature = temperature }, new EvaluationRows { Brier = brier });

        var expected = new List<double>();
        for (int r = 0; r < rows; r++)
        {
            if (y[r] == -100)
            {
                Assert.Equal(0f, brier[r]);
                continue;
            }

            double b = Brier(x.AsSpan(r * vocab, vocab), (int)y[r], temperature);
            expected.Add(b);
            Assert.True(Math.Abs(brier[r] - b) <= 1e-5 * b, $"row {r}: Brier {brier[r]:R}, float64 {b:R} ({device}, T {temperature}, {data})");
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

    [Theory]
    [InlineData("cpu")]
    [InlineData("ilgpu-cpu")]
    public void A_vocabulary_of_one_scores_zero(string device)
    {
        using var engine = new InfoEngine(new InfoEngineOptions { Device = device });
        var totals = new PerplexityAccumulator();
        var brier = new float[3];
        engine.Evaluate(Logits.Float32([1.5f, -40f, 1e30f], 1), new Targets([0, 0, 0]), totals, perRow: new EvaluationRows { Brier = brier });
        Assert.Equal(new float[3], brier);
        Assert.Equal(0, totals.Calibration!.BrierScore);
    }

    [Theory]
    [InlineData("cpu", 1.0f)]
    [InlineData("ilgpu-cpu", 0.8f)]
    public void Compare_scores_each_model_as_eval_does(string device, float temperature)
    {
        var data = new TestData();
        const int rows = 97, vocab = 769;
        var (x, y) = Rows(data, rows, vocab);
        var q = data.Perturbed(x, 0.4);
        using var engine = new InfoEngine(new InfoEngineOptions { Device = device });
        var totals = new ComparisonAccumulator();
        engine.Compare(Logits.Float32(x, vocab), Logits.Float32(q, vocab), totals, new Targets(y), temperature: temperature);

        var scoredRows = Enumerable.Range(0, rows).Where(r => y[r] != -100).ToArray();
        var perModel = new List<double[]>();
        foreach (var (logits, bins) in new[] { (x, totals.CalibrationBase!), (q, totals.CalibrationTest!) })
        {
            var scored = scoredRows.Select(r => Brier(logits.AsSpan(r * vocab, vocab), (int)y[r], temperature)).ToArray();
            perModel.Add(scored);
            Assert.Equal(scored.Average(), bins.BrierScore, 1e-6 * scored.Average());

            var alone = new PerplexityAccumulator();
            engine.Evaluate(Logits.Float32(logits, vocab), new Targets(y), alone, new CrossEntropyOptions { Temperature = temperature });
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

    [Fact]
    public void A_comparisons_difference_merges_exactly_and_version_6_partials_read_without_it()
    {
        var data = new TestData();
        const int rows = 60, vocab = 157;
        var (x, y) = Rows(data, rows, vocab);
        var q = data.Perturbed(x, 0.3);
        using var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        var p = MemoryRowSource.Float32(x, vocab, y);
        var t = MemoryRowSource.Float32(q, vocab, y);
        var one = CorpusRun.Compare(engine, p, t).Comparison!;
        var paths = Enumerable.Range(0, 2).Select(i =>
        {
            string path = _dir.File($"c{i}.json");
            CorpusRun.Compare(engine, p, t, run: new CorpusRunOptions { Shard = new Shard(i, 2), PartialPath = path, ChunkBytes = 7 * vocab * 4 });
            return path;
        }).ToArray();
        var merged = CorpusPartial.Merge(paths.Select(CorpusPartial.Load)).Comparison!;
        Assert.Equal(one.MeanBrierDifference, merged.MeanBrierDifference);
        Assert.Equal(one.MeanBrierDifferenceError, merged.MeanBrierDifferenceError);
        Assert.Equal(one.CalibrationTest!.BrierScore, merged.CalibrationTest!.BrierScore);
        var report = CliRunner.Json(["merge", .. paths]);
        Assert.Equal(one.MeanBrierDifference, (double)report["brier_diff"]!);

        foreach (string path in paths)
        {
            var v6 = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            v6["gpuinfo_partial"] = 6;
            v6["exact_sums"]!.AsObject().Remove("brier_diff_sum");
            v6["exact_sums"]!.AsObject().Remove("brier_diff_sq_sum");
            foreach (string side in new[] { "calibration_base", "calibration_test" })
            {
                v6[side]!.AsObject().Remove("brier_sum");
                v6[side]!.AsObject().Remove("brier_sq_sum");
            }

            File.WriteAllText(path, v6.ToJsonString());
        }

        var old = CorpusPartial.Merge(paths.Select(CorpusPartial.Load)).Comparison!;
        Assert.False(old.HasBrierDifference);
        Assert.True(double.IsNaN(old.MeanBrierDifference));
        Assert.Equal(one.MeanKl, old.MeanKl);
        report = CliRunner.Json(["merge", .. paths]);
        Assert.Null(report["brier_diff"]);
        Assert.Null(report["brier_base"]);
    }

    [Fact]
    public void Partials_keep_the_sums_exactly_and_version_6_partials_read_without_them()
    {
        var data = new TestData();
        const int rows = 90, vocab = 211;
        var (x, y) = Rows(data, rows, vocab);
        using var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        var source = MemoryRowSource.Float32(x, vocab, y);
        var one = CorpusRun.Evaluate(engine, source, null).Evaluation!.Calibration!;
        var paths = Enumerable.Range(0, 3).Select(i =>
        {
            string path = _dir.File($"p{i}.json");
            CorpusRun.Evaluate(engine, source, null, new CorpusRunOptions { Shard = new Shard(i, 3), PartialPath = path, ChunkBytes = 5 * vocab * 4 });
            return path;
        }).ToArray();
        var merged = CorpusPartial.Merge(paths.Select(CorpusPartial.Load)).Evaluation!.Calibration!;
        Assert.Equal(one.BrierScore, merged.BrierScore); // to the last bit
        Assert.Equal(one.BrierScoreError, merged.BrierScoreError);
        Assert.Equal(one.BrierScore, (double)CliRunner.Json(["merge", .. paths])["brier"]!);

        // A sum no set of tokens can give is refused, naming the file.
        var json = JsonNode.Parse(File.ReadAllText(paths[1]))!.AsObject();
        json["calibration"]!["brier_sum"] = "-0x1p0";
        File.WriteAllText(paths[1], json.ToJsonString());
        var e = Assert.Throws<InvalidFileException>(() => CorpusPartial.Load(paths[1]));
        Assert.Equal(paths[1], e.Path);
        Assert.Contains("Brier", e.Message, StringComparison.Ordinal);

        // Version 6 partials kept the bins but not the Brier sums: merged, the score is unknown, the rest as before.
        foreach (string path in paths)
        {
            var v6 = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            v6["gpuinfo_partial"] = 6;
            v6["calibration"]!.AsObject().Remove("brier_sum");
            v6["calibration"]!.AsObject().Remove("brier_sq_sum");
            File.WriteAllText(path, v6.ToJsonString());
        }

        var old = CorpusPartial.Merge(paths.Select(CorpusPartial.Load)).Evaluation!.Calibration!;
        Assert.False(old.HasBrierScore);
        Assert.True(double.IsNaN(old.BrierScore));
        Assert.Equal(one.ExpectedCalibrationError, old.ExpectedCalibrationError);
        var report = CliRunner.Json(["merge", .. paths]);
        Assert.Null(report["brier"]);
        Assert.Equal(one.ExpectedCalibrationError, (double)report["ece"]!);

        // A version 7 partial without them is damaged.
        json = JsonNode.Parse(File.ReadAllText(paths[0]))!.AsObject();
        json["gpuinfo_partial"] = 7;
        File.WriteAllText(paths[0], json.ToJsonString());
        e = Assert.Throws<InvalidFileException>(() => CorpusPartial.Load(paths[0]));
        Assert.Contains("calibration.brier_sum", e.Message, StringComparison.Ordinal);
    }
}
