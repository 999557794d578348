using System.CommandLine;
using System.Diagnostics;
using GpuInfo.Cli.Output;
using GpuInfo.Corpus;
using GpuInfo.Models;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// <c>gpuinfo compare-models</c>: two ONNX models (e.g. a model and its quantization) score the same
/// text over the same windows, and <c>compare</c>'s full report is made from their logits as they
/// come, with no files of logits: KL(base||test) with percentiles, JS, top-1 agreement, both
/// perplexities and Δp.
/// </summary>
internal static class CompareModelsCommand
{
    public static Command Create(TextWriter stdout)
    {
        var common = new CommonOptions();
        var baseOption = new Option<string>("--base") { Description = "The base model (ONNX causal LM).", Required = true };
        var testOption = new Option<string>("--test") { Description = "The test model, of the same vocabulary.", Required = true };
        var topK = new Option<string?>("--top-k") { Description = "For each k of a comma-separated list (e.g. 5,10): the mean overlap of the two models' top-k sets and how often the base's top-1 is in the test's top k." };
        var plot = new Option<string?>("--plot") { Description = "Draw the distributions of per-token KL (log axis) and delta-p with their percentiles, as .svg or .png." };
        var models = new ModelOptions();
        var corpus = new CorpusOptions("Write a per-token value (float32 .npy; KL(base||test) in nats unless --per-token-measure says otherwise), one per scored token.", 128);
        var perTokenMeasure = PerTokenMeasures.Comparison();
        var perDocument = PerDocumentWriter.Option();
        var classes = new ClassesOption();
        var temperature = new Option<float>("--temperature") { Description = "Divide both models' logits by T > 0 (the acceptance rate of speculative sampling at T).", DefaultValueFactory = _ => 1f };
        var command = new Command("compare-models", "KL divergence (with percentiles), Jensen-Shannon, total variation and acceptance rate, top-1 agreement, both perplexities and delta-p of a test ONNX model against a base one, on a text.")
        {
            baseOption, testOption, temperature, topK, plot, perTokenMeasure.Option, classes.Option, perDocument,
        };
        models.AddTo(command);
        corpus.AddTo(command);
        common.AddTo(command);
        command.SetAction(parse =>
        {
            var clock = Stopwatch.StartNew();
            var windows = models.Windows(parse);
            models.CheckProvider(parse);
            float t = parse.GetValue(temperature);
            Guard.Temperature(t);
            var (shard, shardFrom) = corpus.ParseShard(parse);
            int[]? ks = EvalCommand.ParseTopK(parse.GetValue(topK));
            string? plotPath = parse.GetValue(plot);
            PlotFile.Check(plotPath);
            var perRow = perTokenMeasure.Get(parse, corpus.PerToken, perDocument);

            var modelText = models.ReadModelText(parse);
            var (text, tokenizerVocab, tokenizeSeconds) = (modelText.Tokens, modelText.Tokenizer?.VocabularySize, modelText.Seconds);
            var load = Stopwatch.StartNew();
            using var p = models.OpenModel(parse, parse.GetValue(baseOption)!, tokenizerVocab, text.PrefixToken);
            using var q = models.OpenModel(parse, parse.GetValue(testOption)!, tokenizerVocab, text.PrefixToken);
            if (q.Vocab != p.Vocab && !classes.Given(parse))
            {
                throw CliException.BadData($"{q.Path}: vocabulary {q.Vocab} differs from the base model's {p.Vocab} ({p.Path}).{ClassesOption.Hint(p.Vocab, q.Vocab)}");
            }

            using var fullBase = new ModelRowSource(p, text, windows);
            using var fullTest = new ModelRowSource(q, text, windows);
            var (baseSource, testSource, cut) = classes.Cut(parse, fullBase, fullTest, t);
            using var _ = cut;
            EvalCommand.CheckTopK(ks, baseSource.Vocab);
            using var engines = common.CreateEngines(parse);
            double loadSeconds = load.Elapsed.TotalSeconds;
            bool json = parse.GetValue(common.Json);
            var documents = PerDocumentWriter.Create(parse, perDocument, perTokenMeasure.Name(parse), fullBase, modelText, shard);
            var partial = corpus.Run(parse, baseSource, fullBase.RowBytes + fullTest.RowBytes, "compare-models", json, shard,
                run => CorpusRun.Compare(engines.List, baseSource, testSource, t, -100, run with { TopK = ks, ComparisonPerRow = perRow, PerRow = documents?.Chain(run.PerRow) ?? run.PerRow }));
            documents?.Write();
            double seconds = clock.Elapsed.TotalSeconds;
            var totals = partial.Comparison!;
            var report = CompareCommand.Report(totals, engines.Description, seconds);
            EvalCommand.AddShard(report, shard, shardFrom);
            report["base"] = p.Path;
            report["test"] = q.Path;
            report["provider"] = p.Provider;
            report["text"] = text.Name;
            ModelOptions.AddWindows(report, fullBase);
            ModelOptions.AddTiming(report, totals.Tokens, seconds, loadSeconds, tokenizeSeconds, p.RunSeconds + q.RunSeconds);
            if (plotPath is not null)
            {
                ComparisonPlot.Save(plotPath, totals, Path.GetFileName(q.Path));
            }

            if (json)
            {
                Json.Write(stdout, report);
            }
            else
            {
                ComparisonText.Write(stdout, $"compare-models {q.Path} (Q) against {p.Path} (base) on {text.Name}", totals, engines.Description, seconds);
                stdout.WriteLine();
                stdout.WriteLine($"time: {report["tokens_per_second"]} tokens/s; model {report["model_seconds"]} s, tokenize {report["tokenize_seconds"]} s, load {report["load_seconds"]} s, other {report["other_seconds"]} s ({report["provider"]})");
            }

            return ExitCode.Ok;
        });
        return command;
    }
}
