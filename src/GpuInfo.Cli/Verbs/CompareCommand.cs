using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;
using GpuInfo.Corpus;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// <c>gpuinfo compare</c>: a test model's logits against a base model's on the same tokens (e.g. a
/// quantization against its original): KL(base||test) with percentiles, JS, top-1 agreement and,
/// with targets, both perplexities and the change in p(target).
/// </summary>
internal static class CompareCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var common = new CommonOptions();
        var baseOption = FileListOption.Create("--base", "Base logits [N,V] or [B,T,V] (.npy, .safetensors or torch.save .pt), a llama.cpp .kld file (its tokens are the targets), or a .npy stream from a named pipe or - (standard input).", required: true);
        var testOption = FileListOption.Create("--test", "Test logits, same shape as the base, a .kld file of the same tokens, or a .npy stream (a named pipe, or -).", required: true);
        var targets = FileListOption.Create("--targets", "Optional targets [N] or [B,T]: adds ppl_base, ppl_test and delta-p; one per base file.");
        var tensor = new Option<string?>("--tensor") { Description = "Tensor name inside .safetensors or .pt logits files (default: the only one)." };
        var ignore = new Option<long>("--ignore-index") { Description = "With targets: rows whose target equals this are left out.", DefaultValueFactory = _ => -100 };
        var temperature = new Option<float>("--temperature") { Description = "Divide both logits by T > 0.", DefaultValueFactory = _ => 1f };
        var plot = new Option<string?>("--plot") { Description = "Draw the distributions of per-token KL (log axis) and delta-p with their percentiles, as .svg or .png." };
        var topK = new Option<string?>("--top-k") { Description = "For each k of a comma-separated list (e.g. 5,10): the mean overlap of the two models' top-k sets and how often the base's top-1 is in the test's top k." };
        var corpus = new CorpusOptions("Write a per-token value (float32 .npy; KL(base||test) in nats unless --per-token-measure says otherwise), one per row of the inputs (rows whose target is ignored too).");
        var perTokenMeasure = PerTokenMeasures.Comparison();
        var classes = new ClassesOption();
        var command = new Command("compare", "KL divergence both ways (forward with percentiles), Jensen-Shannon, total variation (and so a draft model's acceptance rate) and top-1 agreement of test logits against base logits; with targets, both perplexities, delta-p and both models' calibration.")
        {
            baseOption, testOption, targets, tensor, ignore, temperature, topK, plot, perTokenMeasure.Option, classes.Option,
        };
        corpus.AddTo(command);
        common.AddTo(command);
        command.SetAction(parse =>
        {
            var clock = Stopwatch.StartNew();
            float t = parse.GetValue(temperature);
            string[] basePaths = parse.GetValue(baseOption)!, testPaths = parse.GetValue(testOption)!;
            if (basePaths.Contains(RowSources.StandardInput) && testPaths.Contains(RowSources.StandardInput))
            {
                throw CliException.Usage("--base and --test cannot both be standard input (-): stream one of them through a named pipe (mkfifo).");
            }

            using var fullBase = RowSources.Open(basePaths, FileListOption.Get(parse, targets), new FileRowSourceOptions { LogitsTensor = parse.GetValue(tensor) });
            using var fullTest = RowSources.Open(testPaths, null, new FileRowSourceOptions { LogitsTensor = parse.GetValue(tensor) });
            Guard.Temperature(t);
            if (!fullBase.HasTargets && new Option[] { ignore, corpus.CalibrationBins }.FirstOrDefault(o => parse.GetResult(o) is { Implicit: false }) is { } unused)
            {
                throw CliException.Usage($"{unused.Name} applies to the targets (--targets, or a .kld base's tokens), and there are none.");
            }

            CheckPair(fullBase, fullTest, classes.Given(parse));
            var (p, q, cut) = classes.Cut(parse, fullBase, fullTest, t);
            using var _ = cut;
            var (shard, shardFrom) = corpus.ParseShard(parse);
            corpus.CheckPipes(parse, shard, p, q);
            int[]? ks = EvalCommand.ParseTopK(parse.GetValue(topK));
            EvalCommand.CheckTopK(ks, p.Vocab);
            string? plotPath = parse.GetValue(plot);
            PlotFile.Check(plotPath);
            var perRow = perTokenMeasure.Get(parse, corpus.PerToken);

            using var engines = common.CreateEngines(parse);
            bool json = parse.GetValue(common.Json);
            long ignoreIndex = parse.GetValue(ignore);
            var partial = corpus.Run(parse, p, fullBase.RowBytes + fullTest.RowBytes, "compare", json, shard, run => CorpusRun.Compare(engines.List, p, q, t, ignoreIndex, run with { TopK = ks, ComparisonPerRow = perRow }));
            var report = Report(partial.Comparison!, engines.Description, clock.Elapsed.TotalSeconds);
            EvalCommand.AddShard(report, shard, shardFrom);
            if (plotPath is not null)
            {
                ComparisonPlot.Save(plotPath, partial.Comparison!, Path.GetFileName(q.Name));
            }

            if (json)
            {
                Json.Write(stdout, report);
            }
            else
            {
                ComparisonText.Write(stdout, $"compare {q.Name} (Q) against {p.Name} (base)", partial.Comparison!, engines.Description, clock.Elapsed.TotalSeconds);
            }

            return ExitCode.Ok;
        });
        return command;
    }

    /// <summary>
    /// Both sides must score the same tokens: same shape for tensor files, same tokens for .kld files,
    /// file by file where both sides list as many files (else their rows must add up to the same).
    /// </summary>
    /// <param name="cut">--classes was given: the vocabularies may differ (the last axis of the shapes).</param>
    private static void CheckPair(RowSource p, RowSource q, bool cut)
    {
        if (p is ConcatenatedRowSource cp && q is ConcatenatedRowSource cq && cp.Parts.Count == cq.Parts.Count)
        {
            foreach (var (pp, qq) in cp.Parts.Zip(cq.Parts))
            {
                CheckPair(pp, qq, cut);
            }

            return;
        }

        if (p is FileRowSource fp && q is FileRowSource fq && Rows(fp.ShapeText, cut) != Rows(fq.ShapeText, cut))
        {
            bool classesDiffer = p.Vocab != q.Vocab && Rows(fp.ShapeText, true) == Rows(fq.ShapeText, true);
            throw CliException.BadData($"{q.Name}: shape {fq.ShapeText} differs from the base logits' {fp.ShapeText} ({p.Name}){(cut ? " before the classes" : "")}.{(!cut && classesDiffer ? ClassesOption.Hint(p.Vocab, q.Vocab) : "")}");
        }

        if (q.Vocab != p.Vocab && !cut)
        {
            throw CliException.BadData($"{q.Name}: vocabulary {q.Vocab} differs from the base's {p.Vocab} ({p.Name}).{ClassesOption.Hint(p.Vocab, q.Vocab)}");
        }

        if (p is KldRowSource kp && q is KldRowSource kq && !kp.Format.Tokens.AsSpan().SequenceEqual(kq.Format.Tokens))
        {
            int at = kp.Format.Tokens.AsSpan().CommonPrefixLength(kq.Format.Tokens);
            throw CliException.BadData($"{q.Name}: its tokens differ from the base's ({p.Name}) from token {at} on: the two runs scored different text.");
        }
    }

    /// <summary>A shape's text without its last axis where the classes are cut ("[4, 512, 151936]" → "[4, 512").</summary>
    private static string Rows(string shape, bool cut) => cut ? shape[..Math.Max(shape.LastIndexOf(',') , 0)] : shape;

    public static JsonObject Report(ComparisonAccumulator t, string device, double seconds)
    {
        var report = new JsonObject
        {
            ["tokens"] = t.Tokens,
            ["mean_kld"] = Json.Number(t.MeanKl),
            ["mean_kld_se"] = Json.Number(t.MeanKlError),
            ["kld_percentiles"] = Percentiles(t.KlPercentiles()),
            ["kld_percentiles_exact"] = t.HasAllValues,
            ["mean_reverse_kld"] = Json.Number(t.MeanReverseKl),
            ["mean_reverse_kld_se"] = Json.Number(t.MeanReverseKlError),
            ["mean_js"] = Json.Number(t.MeanJs),
            ["mean_js_se"] = Json.Number(t.MeanJsError),
            ["mean_tvd"] = Json.Number(t.MeanTotalVariation),
            ["mean_tvd_se"] = Json.Number(t.MeanTotalVariationError),
            ["acceptance_rate"] = Json.Number(t.AcceptanceRate),
            ["acceptance_rate_se"] = Json.Number(t.MeanTotalVariationError),
            ["same_top1"] = Json.Number(t.SameTop1Fraction),
            ["same_top1_se"] = Json.Number(t.SameTop1FractionError),
        };
        if (t.HasTargets)
        {
            report["ppl_base"] = Json.Number(t.PerplexityBase);
            report["ppl_base_se"] = Json.Number(t.PerplexityBaseError);
            report["ppl_test"] = Json.Number(t.PerplexityTest);
            report["ppl_test_se"] = Json.Number(t.PerplexityTestError);
            report["cor_ln_ppl"] = Json.Number(t.LnPerplexityCorrelation);
            report["mean_ln_ppl_ratio"] = Json.Number(t.MeanLnPerplexityRatio);
            report["mean_ln_ppl_ratio_se"] = Json.Number(t.MeanLnPerplexityRatioError);
            report["ppl_ratio"] = Json.Number(t.PerplexityRatio);
            report["ppl_ratio_se"] = Json.Number(t.PerplexityRatioError);
            report["ppl_diff"] = Json.Number(t.PerplexityDifference);
            report["ppl_diff_se"] = Json.Number(t.PerplexityDifferenceError);
            report["mean_delta_p"] = Json.Number(t.MeanDeltaP);
            report["mean_delta_p_se"] = Json.Number(t.MeanDeltaPError);
            report["rms_delta_p"] = Json.Number(t.RmsDeltaP);
            report["rms_delta_p_se"] = Json.Number(t.RmsDeltaPError);
            report["delta_p_percentiles"] = Percentiles(t.DeltaPPercentiles());
            report["top1_accuracy_base"] = Json.Number(t.CalibrationBase?.Accuracy ?? double.NaN);
            report["top1_accuracy_test"] = Json.Number(t.CalibrationTest?.Accuracy ?? double.NaN);
            report["mean_confidence_base"] = Json.Number(t.CalibrationBase?.MeanConfidence ?? double.NaN);
            report["mean_confidence_test"] = Json.Number(t.CalibrationTest?.MeanConfidence ?? double.NaN);
            report["ece_base"] = Json.Number(t.CalibrationBase?.ExpectedCalibrationError ?? double.NaN);
            report["ece_test"] = Json.Number(t.CalibrationTest?.ExpectedCalibrationError ?? double.NaN);
            report["mce_base"] = Json.Number(t.CalibrationBase?.MaximumCalibrationError ?? double.NaN);
            report["mce_test"] = Json.Number(t.CalibrationTest?.MaximumCalibrationError ?? double.NaN);
            report["rmsce_base"] = Json.Number(t.CalibrationBase?.RootMeanSquareCalibrationError ?? double.NaN);
            report["rmsce_test"] = Json.Number(t.CalibrationTest?.RootMeanSquareCalibrationError ?? double.NaN);
            report["brier_base"] = Json.Number(t.CalibrationBase?.BrierScore ?? double.NaN);
            report["brier_base_se"] = Json.Number(t.CalibrationBase?.BrierScoreError ?? double.NaN);
            report["brier_test"] = Json.Number(t.CalibrationTest?.BrierScore ?? double.NaN);
            report["brier_test_se"] = Json.Number(t.CalibrationTest?.BrierScoreError ?? double.NaN);
            report["brier_diff"] = Json.Number(t.MeanBrierDifference);
            report["brier_diff_se"] = Json.Number(t.MeanBrierDifferenceError);
        }

        if (t.TopK.Count > 0)
        {
            report["top_k_overlap"] = ByK(t, k => t.TopKOverlap(k).Mean);
            report["top_k_overlap_se"] = ByK(t, k => t.TopKOverlap(k).Error);
            report["top1_in_top_k"] = ByK(t, k => t.TopOneInTopK(k).Fraction);
            report["top1_in_top_k_se"] = ByK(t, k => t.TopOneInTopK(k).Error);
        }

        report["device"] = device;
        report["seconds"] = Math.Round(seconds, 3);
        return report;
    }

    private static JsonObject ByK(ComparisonAccumulator t, Func<int, double> value) =>
        new(t.TopK.Select(k => KeyValuePair.Create(k.ToString(System.Globalization.CultureInfo.InvariantCulture), Json.Number(value(k)))));

    private static JsonObject Percentiles(IReadOnlyList<(string Name, double Value)> values)
    {
        var o = new JsonObject();
        foreach (var (name, value) in values)
        {
            o[name] = Json.Number(value);
        }

        return o;
    }

    public static void Print(TextWriter stdout, bool json, string title, JsonObject report)
    {
        if (json)
        {
            Json.Write(stdout, report);
            return;
        }

        var rows = new List<(string, string)>();
        foreach (var (key, value) in report)
        {
            if (value is JsonObject inner)
            {
                rows.AddRange(inner.Select(kv => ($"{key}.{kv.Key}", Tables.Value(kv.Value))));
            }
            else
            {
                rows.Add((key, Tables.Value(value)));
            }
        }

        Tables.Console(stdout).Write(Tables.KeyValue(title, rows));

        // Lists of records (each task of several files, each kernel): a row each, as wide as they need.
        foreach (var (key, value) in report)
        {
            if (value is JsonArray { Count: > 0 } records && records.All(r => r is JsonObject))
            {
                var (table, width) = Tables.Records(key, [.. records.Cast<JsonObject>()]);
                Tables.Console(stdout, width).Write(table);
            }
        }
    }
}
