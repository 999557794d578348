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

        var c = totals.Calibration!;
        var tokens = new long[c.BinCount + 1];
        var correct = new long[c.BinCount + 1];
        var sums = new double[c.BinCount + 1];
        for (int r = 0; r < rows; r++)
        {
            var z = Reference64.Scaled(x.AsSpan(r * vocab, vocab), temperature);
            var p = Reference64.LogSoftmax(z).Select(Math.Exp).ToArray();
            int argmax = Reference64.ArgMax(x.AsSpan(r * vocab, vocab));
            // 1/Σe^((x − max)/T) from the pass's float32 sum (e^(z_max/T − lse) from the float32 log-sum-exp
            // was within 2e-5, a few ulps of an lse that reaches ~40 here).
            Assert.True(Math.Abs(confidence[r] - p[argmax]) <= 1e-6 * p[argmax], $"row {r}: confidence {confidence[r]:R}, float64 {p[argmax]:R} ({device}, {data})");
            if (y[r] == -100)
            {
                continue;
            }

            int k = c.BinOf(confidence[r]); // the bin its own confidence gives: a float64 one a hair across an edge would move it
            tokens[k]++;
            correct[k] += argmax == y[r] ? 1 : 0;
            sums[k] += p[argmax];
        }

        Assert.Equal(tokens, c.BinTokens);
        Assert.Equal(correct, c.BinCorrect);
        Assert.Equal(totals.Top1Hits, c.BinCorrect.Sum());
        long n = tokens.Sum();
        var used = Enumerable.Range(0, c.BinCount + 1).Where(k => tokens[k] > 0).ToArray();
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

        // Version 4 partials had no calibration, and version 5 partials counted confidences of exactly 1 in
        // their last bin (torchmetrics counts them apart): read, merged with each other, the calibration unknown.
        CorpusRun.Evaluate(engine, source, null, new CorpusRunOptions { Shard = new Shard(0, 3), PartialPath = paths[0], ChunkBytes = 7 * vocab * 4 });
        foreach (string path in paths)
        {
            var v5 = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            v5["gpuinfo_partial"] = 5;
            v5["options"]!.AsObject().Remove("calibration_bins");
            foreach (string field in new[] { "tokens", "correct", "confidence_sums" })
            {
                v5["calibration"]![field]!.AsArray().RemoveAt(CalibrationBins.DefaultBins);
            }

            File.WriteAllText(path, v5.ToJsonString());
        }

        Assert.Null(CorpusPartial.Merge(paths.Select(CorpusPartial.Load)).Evaluation!.Calibration);
        CliRunner.Fails(3, ["format version 5", "no calibration bins"], ["merge", .. paths, "--plot", _dir.File("v5.svg")]);
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

    /// <summary>
    /// torchmetrics' binning at any bin count: B bins [k/B, (k+1)/B), and a slot of its own for a
    /// (float32) confidence of exactly 1, which <c>bucketize(..., right=True)</c> puts past the last
    /// edge. Rows that are certain in float32 (one logit 40 above the rest) fill that slot; counted in
    /// the last bin instead, as before 2026-12-06, the figures differ.
    /// </summary>
    [Theory]
    [InlineData(15)]
    [InlineData(10)]
    [InlineData(1)]
    public void Confidences_of_exactly_one_have_a_slot_of_their_own_as_in_torchmetrics(int bins)
    {
        var data = new TestData();
        const int rows = 240, vocab = 61;
        var (x, y) = Rows(data, rows, vocab);
        for (int r = 0; r < rows; r += 3)
        {
            int top = Reference64.ArgMax(x.AsSpan(r * vocab, vocab));
            x[(r * vocab) + top] += 40f;
            y[r] = r % 4 == 0 ? (top + 1) % vocab : top; // certain, and wrong for some
        }

        // Rows of confidence about 0.96, in the last bin at 10 or 15 bins, always right: underconfident
        // where the certain rows are overconfident, so that counting both in one bin changes the ECE.
        for (int r = 1; r < rows; r += 3)
        {
            for (int j = 0; j < vocab; j++)
            {
                x[(r * vocab) + j] = (float)(0.3 * data.Normal());
            }

            x[r * vocab] += 7.5f;
            y[r] = 0;
        }

        // The rest flattened into the low bins (their argmax kept).
        for (int i = 0; i < x.Length; i++)
        {
            x[i] *= i / vocab % 3 == 2 ? 0.1f : 1f;
        }

        using var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        var confidence = new float[rows];
        var totals = new PerplexityAccumulator(bins);
        engine.Evaluate(Logits.Float32(x, vocab), new Targets(y), totals, null, new EvaluationRows { Confidence = confidence });
        var c = totals.Calibration!;
        Assert.Equal(bins, c.BinCount);

        // torchmetrics' _binning_bucketize over the float32 confidences: B + 1 slots.
        var (n, hits, sums) = (new long[bins + 1], new long[bins + 1], new double[bins + 1]);
        for (int r = 0; r < rows; r++)
        {
            if (y[r] == -100)
            {
                continue;
            }

            int slot = confidence[r] == 1f ? bins : (int)Math.Floor(confidence[r] * (double)bins);
            n[slot]++;
            hits[slot] += Reference64.ArgMax(x.AsSpan(r * vocab, vocab)) == y[r] ? 1 : 0;
            sums[slot] += confidence[r];
        }

        Assert.True(n[bins] >= rows / 3 - 1, $"{n[bins]} certain rows ({data})");
        Assert.Equal(n, c.BinTokens);
        Assert.Equal(hits, c.BinCorrect);
        var (ece, mce, rms) = Norms(n, hits, sums);
        Assert.Equal(ece, c.ExpectedCalibrationError, 12);
        Assert.Equal(mce, c.MaximumCalibrationError, 12);
        Assert.Equal(rms, c.RootMeanSquareCalibrationError, 12);

        // The ones counted in the last bin give other figures: the test tells the two apart.
        n[bins - 1] += n[bins];
        hits[bins - 1] += hits[bins];
        sums[bins - 1] += sums[bins];
        (n[bins], hits[bins], sums[bins]) = (0, 0, 0);
        Assert.NotEqual(Math.Round(ece, 9), Math.Round(Norms(n, hits, sums).Ece, 9));
    }

    /// <summary>torchmetrics' norms "l1", "max" and "l2" over slots with tokens.</summary>
    private static (double Ece, double Mce, double Rms) Norms(long[] n, long[] hits, double[] sums)
    {
        double total = n.Sum(), ece = 0, mce = 0, squares = 0;
        for (int k = 0; k < n.Length; k++)
        {
            if (n[k] == 0)
            {
                continue;
            }

            double gap = Math.Abs(((double)hits[k] / n[k]) - (sums[k] / n[k]));
            ece += n[k] / total * gap;
            mce = Math.Max(mce, gap);
            squares += n[k] / total * gap * gap;
        }

        return (ece, mce, Math.Sqrt(squares));
    }

    /// <summary>--calibration-bins through eval, its partials and merge; partials of other bin counts do not merge; a bad count is a usage error.</summary>
    [Fact]
    public void The_bin_count_is_an_option_that_partials_carry()
    {
        var data = new TestData();
        const int rows = 90, vocab = 53;
        var (x, y) = Rows(data, rows, vocab);
        string logits = _dir.File("bx.npy"), targets = _dir.File("by.npy");
        NpyFormat.Write<float>(logits, x, [rows, vocab]);
        NpyFormat.Write<long>(targets, y, [rows]);
        string[] run = ["eval", "--logits", logits, "--targets", targets, "--device", "cpu"];
        var report = CliRunner.Json([.. run, "--calibration-bins", "10"]);
        var bins = report["calibration_bins"]!.AsArray();
        Assert.Equal(11, bins.Count);
        Assert.Equal(0.9, (double)bins[9]!["low"]!, 12);
        Assert.Equal(1.0, (double)bins[10]!["low"]!);
        Assert.Equal(1.0, (double)bins[10]!["high"]!);

        string a = _dir.File("b0.json"), b = _dir.File("b1.json");
        CliRunner.Json([.. run, "--calibration-bins", "10", "--shard", "0/2", "--partial", a]);
        CliRunner.Json([.. run, "--calibration-bins", "10", "--shard", "1/2", "--partial", b]);
        var merged = CliRunner.Json("merge", a, b);
        Assert.Equal((double)report["ece"]!, (double)merged["ece"]!);
        Assert.Equal((double)report["rmsce"]!, (double)merged["rmsce"]!);
        Assert.Equal(11, merged["calibration_bins"]!.AsArray().Count);

        CliRunner.Json([.. run, "--shard", "1/2", "--partial", b]);
        CliRunner.Fails(3, ["options.calibration_bins is \"15\" here but \"10\""], "merge", a, b);
        CliRunner.Fails(2, ["--calibration-bins must be 1 to"], [.. run, "--calibration-bins", "0"]);
        Assert.Throws<ArgumentOutOfRangeException>(() => new PerplexityAccumulator(0));
        Assert.Throws<ArgumentException>(() => new PerplexityAccumulator(10).Merge(new PerplexityAccumulator(15)));
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
        Assert.Equal(CalibrationBins.DefaultBins + 1, bins.Count); // and the slot of confidences of exactly 1
        Assert.Equal((long)report["tokens"]!, bins.Sum(b => (long)b!["tokens"]!));
        Assert.Equal(0.0, (double)bins[0]!["low"]!);
        Assert.Equal(1.0, (double)bins[^1]!["high"]!);
        double ece = bins.Where(b => (long)b!["tokens"]! > 0).Sum(b => (long)b!["tokens"]! * Math.Abs((double)b!["accuracy"]! - (double)b["confidence"]!)) / (long)report["tokens"]!;
        Assert.Equal(ece, (double)report["ece"]!, 12);
        Assert.True((double)report["mce"]! >= (double)report["ece"]!);
        Assert.InRange((double)report["rmsce"]!, (double)report["ece"]!, (double)report["mce"]!);

        // --plot draws the reliability diagram; a path it cannot write is refused before the run.
        string png = _dir.File("reliability.png"), svg = _dir.File("reliability.svg");
        CliRunner.Json("eval", "--logits", logits, "--targets", targets, "--device", "cpu", "--plot", png);
        CliRunner.Json("eval", "--logits", logits, "--targets", targets, "--device", "cpu", "--plot", svg);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(png)[..4]);
        Assert.Contains("top-1 reliability", File.ReadAllText(svg), StringComparison.Ordinal);
        CliRunner.Fails(2, ["--plot must end in .svg or .png"], "eval", "--logits", logits, "--targets", targets, "--plot", _dir.File("r.jpg"));
    }
}
