using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;
using GpuInfo.Samples;
using Spectre.Console;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// <c>gpuinfo demo</c>, the main job: every measure on embedded sample data (a synthetic model and
/// its "quantized" copy), on the best device, printed as tables. Needs no arguments or files.
/// </summary>
internal static class DemoCommand
{
    /// <summary>The largest k whose top-k accuracy the demo reports.</summary>
    private const int TopK = 5;

    public static Command Create(TextWriter stdout)
    {
        var common = new CommonOptions();
        var rows = new Option<int>("--rows") { Description = "Rows of sample logits.", DefaultValueFactory = _ => 512 };
        var vocab = new Option<int>("--vocab") { Description = "Vocabulary of the sample logits.", DefaultValueFactory = _ => 32_003 };
        var command = new Command("demo", "Every measure on embedded sample data, on the best device, as tables (no files needed).") { rows, vocab };
        common.AddTo(command);
        command.SetAction(parse =>
        {
            int n = parse.GetValue(rows), v = parse.GetValue(vocab);
            if (n < 1)
            {
                throw CliException.Usage($"--rows must be at least 1, got {n}.");
            }

            // As eval refuses a --top-k beyond the vocabulary: a vocabulary of TopK or fewer puts every target in the top k (accuracy 1, trivially).
            if (v <= TopK)
            {
                throw CliException.Usage($"--vocab must be at least {TopK + 1}, got {v}: the demo reports top-{TopK} accuracy, which is 1 for any model over {TopK} tokens or fewer.");
            }

            using var engine = common.CreateEngine(parse);
            var clock = Stopwatch.StartNew();
            var sample = SampleLogits.Create(n, v);
            var sections = new JsonObject
            {
                ["device"] = Json.Device(engine.Device),
                ["data"] = $"{n} x {v} synthetic logits (Zipf-shaped), targets drawn from the model; test = bf16-rounded base + N(0, 0.02^2)",
                ["row_measures"] = RowMeasures(engine, sample),
                ["evaluation"] = Evaluation(engine, sample),
                ["comparison"] = Comparison(engine, sample),
                ["language_model"] = ModelDemo.Run(engine),
                ["distributions"] = DistributionDemo.Run(engine),
                ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 3),
            };
            if (parse.GetValue(common.Json))
            {
                Json.Write(stdout, sections);
                return ExitCode.Ok;
            }

            var console = Tables.Console(stdout);
            console.MarkupLine($"[bold]gpuinfo demo[/] on {Markup.Escape(DeviceNames.Kind(engine.Device.Kind))} ({Markup.Escape(engine.Device.Name)}): {Markup.Escape(engine.Device.Reason)}");
            console.MarkupLine(Markup.Escape(sections["data"]!.ToString()));
            foreach (var name in new[] { "row_measures", "evaluation", "comparison", "language_model", "distributions" })
            {
                console.Write(Tables.KeyValue(name.Replace('_', ' '), Flatten((JsonObject)sections[name]!)));
            }

            console.MarkupLine($"done in {sections["seconds"]} s");
            return ExitCode.Ok;
        });
        return command;
    }

    private static JsonObject RowMeasures(InfoEngine engine, SampleLogits s)
    {
        var logits = Logits.Float32(s.Base, s.Vocab);
        var perRow = new float[s.Rows];
        engine.LogSumExp(logits, perRow);
        double lse = perRow.Average();
        engine.Entropy(logits, perRow);
        double entropy = perRow.Average();
        var weights = Enumerable.Range(0, s.Vocab).Select(j => j % 2 == 0 ? 1f : 0.5f).ToArray();
        var gradient = new float[s.Base.Length];
        var ce = engine.CrossEntropyWithGradient(logits, s.Targets, gradient);
        double worstRowSum = 0;
        for (int r = 0; r < s.Rows; r++)
        {
            worstRowSum = Math.Max(worstRowSum, Math.Abs(gradient.AsSpan(r * s.Vocab, s.Vocab).ToArray().Sum()));
        }

        engine.KlDivergence(logits, Logits.Float32(s.Test, s.Vocab), perRow, KlDirection.Reverse);
        double reverseKl = perRow.Average();
        engine.JensenShannon(logits, Logits.Float32(s.Test, s.Vocab), perRow);
        double js = perRow.Average();
        engine.TotalVariation(logits, Logits.Float32(s.Test, s.Vocab), perRow);
        return new JsonObject
        {
            ["mean_log_sum_exp"] = lse,
            ["mean_entropy_nats"] = entropy,
            ["cross_entropy_mean_nats"] = ce.Loss,
            ["cross_entropy_label_smoothing_0.1"] = engine.CrossEntropy(logits, s.Targets, new CrossEntropyOptions { LabelSmoothing = 0.1f }).Loss,
            ["cross_entropy_z_loss_1e-4"] = engine.CrossEntropy(logits, s.Targets, new CrossEntropyOptions { ZLoss = 1e-4f }).Loss,
            ["cross_entropy_temperature_2"] = engine.CrossEntropy(logits, s.Targets, new CrossEntropyOptions { Temperature = 2f }).Loss,
            ["cross_entropy_class_weighted"] = engine.CrossEntropy(logits, s.Targets, new CrossEntropyOptions { ClassWeights = weights }).Loss,
            ["cross_entropy_sum"] = engine.CrossEntropy(logits, s.Targets, new CrossEntropyOptions { Reduction = Reduction.Sum }).Loss,
            ["gradient_max_abs_row_sum"] = worstRowSum,
            ["mean_reverse_kl_nats"] = reverseKl,
            ["mean_js_nats"] = js,
            ["mean_total_variation"] = perRow.Average(),
            ["top1_agreement"] = engine.Top1Agreement(logits, Logits.Float32(s.Test, s.Vocab)) / (double)s.Rows,
        };
    }

    /// <summary>The sample as a corpus: one run, and four shards through partials merged back, which must agree exactly.</summary>
    private static JsonObject Evaluation(InfoEngine engine, SampleLogits s)
    {
        var source = Corpus.MemoryRowSource.Float32(s.Base, s.Vocab, s.Targets.Select(t => (long)t).ToArray(), "sample");
        var totals = Corpus.CorpusRun.Evaluate(engine, source, null, new Corpus.CorpusRunOptions { TopK = [1, TopK] }).Evaluation!;
        var merged = Corpus.CorpusPartial.Merge(Enumerable.Range(0, 4).Select(i =>
            Corpus.CorpusRun.Evaluate(engine, source, null, new Corpus.CorpusRunOptions { TopK = [1, TopK], Shard = new Corpus.Shard(i, 4) }))).Evaluation!;
        return new JsonObject
        {
            ["tokens"] = totals.Tokens,
            ["mean_nll_nats"] = totals.MeanNll,
            ["mean_nll_se"] = totals.MeanNllError,
            ["perplexity"] = totals.Perplexity,
            ["bits_per_token"] = totals.BitsPerToken,
            ["mean_entropy_nats"] = totals.MeanEntropy,
            ["top1_accuracy"] = totals.Top1Accuracy,
            ["expected_calibration_error"] = totals.Calibration!.ExpectedCalibrationError,
            ["brier_score"] = totals.Calibration.BrierScore,
            [$"top{TopK}_accuracy"] = totals.TopKAccuracy(TopK),
            ["4_shards_merged_equal_one_run"] = merged.NllSum == totals.NllSum && merged.EntropySum == totals.EntropySum && merged.TopKHits[TopK] == totals.TopKHits[TopK]
                && merged.Calibration!.BinConfidenceSums.SequenceEqual(totals.Calibration.BinConfidenceSums)
                && merged.Calibration.BrierScore == totals.Calibration.BrierScore,
        };
    }

    private static JsonObject Comparison(InfoEngine engine, SampleLogits s)
    {
        var totals = new ComparisonAccumulator();
        engine.Compare(Logits.Float32(s.Base, s.Vocab), Logits.Float32(s.Test, s.Vocab), totals, s.Targets);
        return CompareCommand.Report(totals, engine.Device.Name, 0);
    }

    private static IEnumerable<(string, string)> Flatten(JsonObject o, string prefix = "")
    {
        foreach (var (key, value) in o)
        {
            if (key is "device" or "seconds")
            {
                continue;
            }

            if (value is JsonObject inner)
            {
                foreach (var row in Flatten(inner, prefix + key + "."))
                {
                    yield return row;
                }
            }
            else
            {
                yield return (prefix + key, value is JsonValue jv && jv.TryGetValue(out double d) ? Tables.F(d) : value?.ToString() ?? "n/a");
            }
        }
    }
}
