using System.CommandLine;
using System.Diagnostics;
using GpuInfo.Cli.Output;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Models;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// <c>gpuinfo compare-models</c>: two ONNX models (e.g. a model and its quantization) score the same
/// text over the same windows, and <c>compare</c>'s full report is made from their logits as they
/// come, with no files of logits: KL(base||test) with percentiles, JS, top-1 agreement, both
/// perplexities and Δp. One side may be a llama.cpp <c>.kld</c> file instead (a GGUF model's
/// log-probabilities): the model scores its tokens in llama.cpp's chunks, row for row.
/// </summary>
internal static class CompareModelsCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var common = new CommonOptions();
        var baseOption = new Option<string>("--base") { Description = "The base model (ONNX causal LM), or a llama.cpp .kld file of its log-probabilities (llama-perplexity --kl-divergence-base): the test model then scores the file's tokens in llama.cpp's chunks.", Required = true };
        var testOption = new Option<string>("--test") { Description = "The test model, of the same vocabulary (or a .kld file, against a base model).", Required = true };
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
            string basePath = parse.GetValue(baseOption)!, testPath = parse.GetValue(testOption)!;
            bool baseKld = KldFormat.Sniff(basePath), testKld = KldFormat.Sniff(testPath);
            if (baseKld && testKld)
            {
                throw CliException.Usage($"{basePath} and {testPath} are both llama.cpp .kld files: compare them with 'gpuinfo compare --base {basePath} --test {testPath}'.");
            }

            using var kld = baseKld || testKld ? KldRowSource.Open(baseKld ? basePath : testPath) : null;
            var windows = kld is null ? models.Windows(parse, basePath) : null;
            models.CheckProvider(parse);
            float t = parse.GetValue(temperature);
            Guard.Temperature(t);
            var (shard, shardFrom) = corpus.ParseShard(parse);
            int[]? ks = EvalCommand.ParseTopK(parse.GetValue(topK));
            string? plotPath = parse.GetValue(plot);
            PlotFile.Check(plotPath);
            PerDocumentWriter.Check(parse, perDocument, corpus.PerToken);
            var perRow = perTokenMeasure.Get(parse, corpus.PerToken, perDocument);

            // The text last, after every cheap check: tokenizing a corpus takes a while.
            ModelText modelText;
            (windows, modelText) = kld is null ? (windows!, models.ReadModelText(parse, showProgress: !parse.GetValue(common.Json), shards: shard.Count, notes: stderr, model: parse.GetValue(baseOption))) : models.ForKld(parse, kld.Format, stderr);

            var (text, tokenizeSeconds) = (modelText.Tokens, modelText.Seconds);
            var load = Stopwatch.StartNew();
            using var p = baseKld ? null : models.OpenModel(parse, basePath, modelText);
            using var q = testKld ? null : models.OpenModel(parse, testPath, modelText);
            int baseVocab = p?.Vocab ?? kld!.Vocab, testVocab = q?.Vocab ?? kld!.Vocab;
            if (testVocab != baseVocab && !classes.Given(parse))
            {
                throw CliException.BadData($"{testPath}: vocabulary {testVocab} differs from the base's {baseVocab} ({basePath}).{ClassesOption.Hint(baseVocab, testVocab)}");
            }

            using var baseModel = p is null ? null : new ModelRowSource(p, text, windows);
            using var testModel = q is null ? null : new ModelRowSource(q, text, windows);
            var model = (baseModel ?? testModel)!; // the windows, and the model run, of the report
            RowSource fullBase = (RowSource?)baseModel ?? kld!, fullTest = (RowSource?)testModel ?? kld!;
            var (baseSource, testSource, cut) = classes.Cut(parse, fullBase, fullTest, t);
            using var _ = cut;
            EvalCommand.CheckTopK(ks, baseSource.Vocab);
            using var engines = common.CreateEngines(parse);
            double loadSeconds = load.Elapsed.TotalSeconds;
            bool json = parse.GetValue(common.Json);
            var documents = PerDocumentWriter.Create(parse, perDocument, perTokenMeasure.Name(parse), model, modelText, shard);
            var partial = corpus.Run(parse, baseSource, fullBase.RowBytes + fullTest.RowBytes, "compare-models", json, shard,
                run => CorpusRun.Compare(engines.List, baseSource, testSource, t, -100, run with { TopK = ks, ComparisonPerRow = perRow, PerRow = documents?.Chain(run.PerRow) ?? run.PerRow }));
            documents?.Write();
            double seconds = clock.Elapsed.TotalSeconds;
            var totals = partial.Comparison!;
            var report = CompareCommand.Report(totals, engines.Description, seconds);
            EvalCommand.AddShard(report, shard, shardFrom);
            report["base"] = basePath;
            report["test"] = testPath;
            report["provider"] = (p ?? q)!.Provider;
            report["text"] = text.Name;
            ModelOptions.AddWindows(report, model);
            if (kld is null)
            {
                report["context_source"] = models.ContextSource;
            }

            ModelOptions.AddTiming(report, totals.Tokens, seconds, loadSeconds, tokenizeSeconds, (p?.RunSeconds ?? 0) + (q?.RunSeconds ?? 0));
            if (plotPath is not null)
            {
                ComparisonPlot.Save(plotPath, totals, Path.GetFileName(testPath));
            }

            if (json)
            {
                Json.Write(stdout, report);
            }
            else
            {
                ComparisonText.Write(stdout, $"compare-models {testPath} (Q) against {basePath} (base) on {text.Name}", totals, engines.Description, seconds);
                stdout.WriteLine();
                stdout.WriteLine($"time: {report["tokens_per_second"]} tokens/s; model {report["model_seconds"]} s, tokenize {report["tokenize_seconds"]} s, load {report["load_seconds"]} s, other {report["other_seconds"]} s ({report["provider"]})");
            }

            return ExitCode.Ok;
        });
        return command;
    }
}
