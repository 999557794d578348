using System.Text.Json.Nodes;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;
using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Measures;

/// <summary>
/// The calibration of top-1 predictions (expected and maximum calibration error, torchmetrics'
/// definitions with 15 bins): each row's confidence against float64, the bins' figures against a
/// float64 recomputation, exact merges, and partials before format version 5 read without it.
/// </summary>
public sealed class CalibrationTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Rows of every sharpness (logits scaled from 0.1 to 12), targets the argmax for about half of them.</summary>
    private static (float[] X, long[] Y) Rows(TestData data, int rows, int vocab)
    {
        var x = new float[rows * vocab];
        var y = new long[rows];
        var rng = new Random(data.Seed);
        for (int r = 0; r < rows; r++)
        {
            double scale = 0.1 + (12.0 * r / rows);
            for (int j = 0; j < vocab; j++)
            {
                x[(r * vocab) + j] = (float)(scale * data.Normal());
            }

            y[r] = rng.NextDouble() < 0.5 ? Reference64.ArgMax(x.AsSpan(r * vocab, vocab)) : rng.Next(vocab);
        }

        y[3] = -100;
        return (x, y);
    }

    [Theory]
    [InlineData("cpu", 1.0f)]
    [InlineData("cpu", 0.7f)]
    [InlineData("ilgpu-cpu", 1.3f)]
    public void Each_rows_confidence_and_the_calibration_errors_match_float64(string device, float temperature)
    {
        var data = new TestData();
        const int rows = 257, vocab = 503;
        var (x, y) = Rows(data, rows, vocab);
        using var engine = new InfoEngine(new InfoEngineOptions { Device = device });
        var totals = new PerplexityAccumulator();
        var confidence = new float[rows];
        engine.Evaluate(Logits.Float32(x, vocab), new Targets(y), totals, new CrossEntropyOptions { Temperature = temperature }, new EvaluationRows { Confidence = confidence });

        var tokens = new long[CalibrationBins.Count];
        var correct = new long[CalibrationBins.Count];
        var sums = new double[CalibrationBins.Count];
        for (int r = 0; r < rows; r++)
        {
            var z = Reference64.Scaled(x.AsSpan(r * vocab, vocab), temperature);
            var p = Reference64.LogSoftmax(z).Select(Math.Exp).ToArray();
            int argmax = Reference64.ArgMax(x.AsSpan(r * vocab, vocab));
            // e^(z_max/T − lse) with the float32 log-sum-exp: a few of its ulps, relative (lse reaches ~40 here).
            Assert.True(Math.Abs(confidence[r] - p[argmax]) <= (2e-5 * p[argmax]) + 1e-7, $"row {r}: confidence {confidence[r]:R}, float64 {p[argmax]:R} ({device}, {data})");
            if (y[r] == -100)
            {
                continue;
            }

            int k = CalibrationBins.BinOf(confidence[r]); // the bin its own confidence gives: a float64 one a hair across an edge would move it
            tokens[k]++;
            correct[k] += argmax == y[r] ? 1 : 0;
            sums[k] += p[argmax];
        }

        var c = totals.Calibration!;
        Assert.Equal(tokens, c.BinTokens);
        Assert.Equal(correct, c.BinCorrect);
        Assert.Equal(totals.Top1Hits, c.BinCorrect.Sum());
        long n = tokens.Sum();
        var used = Enumerable.Range(0, CalibrationBins.Count).Where(k => tokens[k] > 0).ToArray();
        Assert.True(used.Length >= 5, $"only {used.Length} bins used ({data})");
        double ece = used.Sum(k => (double)tokens[k] / n * Math.Abs(((double)correct[k] / tokens[k]) - (sums[k] / tokens[k])));
        double mce = used.Max(k => Math.Abs(((double)correct[k] / tokens[k]) - (sums[k] / tokens[k])));
        Assert.Equal(ece, c.ExpectedCalibrationError, 2e-5);
        Assert.Equal(mce, c.MaximumCalibrationError, 2e-5);
        Assert.Equal(sums.Sum() / n, c.MeanConfidence, 2e-5);
    }

    [Fact]
    public void Bins_merge_exactly_and_survive_partials_but_not_edits()
    {
        var data = new TestData();
        const int rows = 120, vocab = 97;
        var (x, y) = Rows(data, rows, vocab);
        using var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        var source = MemoryRowSource.Float32(x, vocab, y);
        var one = CorpusRun.Evaluate(engine, source, null).Evaluation!;
        var paths = Enumerable.Range(0, 3).Select(i =>
        {
            string path = _dir.File($"p{i}.json");
            CorpusRun.Evaluate(engine, source, null, new CorpusRunOptions { Shard = new Shard(i, 3), PartialPath = path, ChunkBytes = 7 * vocab * 4 });
            return path;
        }).ToArray();
        var merged = CorpusPartial.Merge(paths.Select(CorpusPartial.Load)).Evaluation!;
        Assert.Equal(one.Calibration!.BinConfidenceSums, merged.Calibration!.BinConfidenceSums);
        Assert.Equal(one.Calibration.ExpectedCalibrationError, merged.Calibration.ExpectedCalibrationError);
        string plot = _dir.File("merged.svg");
        CliRunner.Json(["merge", .. paths, "--plot", plot]); // the merged bins draw the one run's reliability diagram
        Assert.Contains("top-1 reliability", File.ReadAllText(plot), StringComparison.Ordinal);

        // A bin count that does not add up to the partial's tokens is refused, naming the file.
        var json = JsonNode.Parse(File.ReadAllText(paths[0]))!.AsObject();
        var binTokens = json["calibration"]!["tokens"]!.AsArray();
        int full = binTokens.Select((t, i) => (t!.GetValue<long>(), i)).First(t => t.Item1 > 0).i;
        binTokens[full] = binTokens[full]!.GetValue<long>() + 1;
        File.WriteAllText(paths[0], json.ToJsonString());
        var e = Assert.Throws<InvalidFileException>(() => CorpusPartial.Load(paths[0]));
        Assert.Equal(paths[0], e.Path);
        Assert.Contains("calibration", e.Message, StringComparison.Ordinal);

        // Version 4 partials had no calibration: read, merged with each other, the calibration unknown.
        foreach (string path in paths)
        {
            var old = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            old["gpuinfo_partial"] = 4;
            old.Remove("calibration");
            File.WriteAllText(path, old.ToJsonString());
        }

        var v4 = CorpusPartial.Merge(paths.Select(CorpusPartial.Load)).Evaluation!;
        Assert.Null(v4.Calibration);
        Assert.Equal(one.MeanNll, v4.MeanNll);
        var report = CliRunner.Json(["merge", .. paths]);
        Assert.Null(report["ece"]);
        Assert.Null(report["calibration_bins"]);
        CliRunner.Fails(3, ["format version 4", "no calibration bins"], ["merge", .. paths, "--plot", _dir.File("v4.svg")]);
    }

    /// <summary>With targets, compare reports each model's calibration as eval of that model does (the pair pass's own log-sum-exps).</summary>
    [Theory]
    [InlineData("cpu")]
    [InlineData("ilgpu-cpu")]
    public void Compare_reports_each_models_calibration_as_eval_does(string device)
    {
        var data = new TestData();
        const int rows = 150, vocab = 331;
        var (x, y) = Rows(data, rows, vocab);
        var q = data.Perturbed(x, 0.5);
        using var engine = new InfoEngine(new InfoEngineOptions { Device = device });
        var compared = new ComparisonAccumulator();
        engine.Compare(Logits.Float32(x, vocab), Logits.Float32(q, vocab), compared, new Targets(y), 0.9f);
        foreach (var (logits, bins) in new[] { (x, compared.CalibrationBase!), (q, compared.CalibrationTest!) })
        {
            var alone = new PerplexityAccumulator();
            engine.Evaluate(Logits.Float32(logits, vocab), new Targets(y), alone, new CrossEntropyOptions { Temperature = 0.9f });
            var expected = alone.Calibration!;
            Assert.Equal(expected.Tokens, bins.Tokens);
            Assert.Equal(alone.Top1Hits, bins.BinCorrect.Sum());
            Assert.Equal(expected.MeanConfidence, bins.MeanConfidence, 1e-6);
            // A confidence within the passes' rounding of a bin edge may sit in the other bin: one token moves the ECE by at most 2/N.
            Assert.True(Math.Abs(expected.ExpectedCalibrationError - bins.ExpectedCalibrationError) <= (2.0 / bins.Tokens) + 1e-6, $"{device} {data}");
        }

        Assert.NotEqual(compared.CalibrationBase!.BinConfidenceSums, compared.CalibrationTest!.BinConfidenceSums);
    }

    [Fact]
    public void Totals_added_without_confidences_have_no_calibration()
    {
        var totals = new PerplexityAccumulator();
        Assert.NotNull(totals.Calibration);
        Assert.True(double.IsNaN(totals.Calibration!.ExpectedCalibrationError));
        totals.AddTokens([1f, 2f]);
        Assert.Null(totals.Calibration);
        var merged = new PerplexityAccumulator();
        merged.Merge(totals);
        Assert.Null(merged.Calibration);
    }

    [Fact]
    public void Eval_reports_the_calibration_with_its_reliability_bins()
    {
        var data = new TestData();
        const int rows = 64, vocab = 211;
        var (x, y) = Rows(data, rows, vocab);
        string logits = _dir.File("x.npy"), targets = _dir.File("y.npy");
        NpyFormat.Write<float>(logits, x, [rows, vocab]);
        NpyFormat.Write<long>(targets, y, [rows]);
        var report = CliRunner.Json("eval", "--logits", logits, "--targets", targets, "--device", "cpu");
        var bins = report["calibration_bins"]!.AsArray();
        Assert.Equal(CalibrationBins.Count, bins.Count);
        Assert.Equal((long)report["tokens"]!, bins.Sum(b => (long)b!["tokens"]!));
        Assert.Equal(0.0, (double)bins[0]!["low"]!);
        Assert.Equal(1.0, (double)bins[^1]!["high"]!);
        double ece = bins.Where(b => (long)b!["tokens"]! > 0).Sum(b => (long)b!["tokens"]! * Math.Abs((double)b!["accuracy"]! - (double)b["confidence"]!)) / (long)report["tokens"]!;
        Assert.Equal(ece, (double)report["ece"]!, 12);
        Assert.True((double)report["mce"]! >= (double)report["ece"]!);

        // --plot draws the reliability diagram; a path it cannot write is refused before the run.
        string png = _dir.File("reliability.png"), svg = _dir.File("reliability.svg");
        CliRunner.Json("eval", "--logits", logits, "--targets", targets, "--device", "cpu", "--plot", png);
        CliRunner.Json("eval", "--logits", logits, "--targets", targets, "--device", "cpu", "--plot", svg);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(png)[..4]);
        Assert.Contains("top-1 reliability", File.ReadAllText(svg), StringComparison.Ordinal);
        CliRunner.Fails(2, ["--plot must end in .svg or .png"], "eval", "--logits", logits, "--targets", targets, "--plot", _dir.File("r.jpg"));
    }
}
