using System.CommandLine;
using System.Diagnostics;
using GpuInfo.Cli.Output;
using GpuInfo.Corpus;
using GpuInfo.Models;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// <c>gpuinfo perplexity</c>: an ONNX causal LM scores a text over sliding windows and its logits go
/// straight into the evaluation (no file of logits): eval's report, bits per byte and word perplexity
/// from the tokenizer's byte and word counts of the scored tokens, and where the time went.
/// </summary>
internal static class PerplexityCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var common = new CommonOptions();
        var model = new Option<string>("--model") { Description = "A causal LM in ONNX (inputs input_ids [, attention_mask, position_ids, past_key_values.*]; output logits [batch, sequence, vocabulary]).", Required = true };
        var temperature = new Option<float>("--temperature") { Description = "Divide the logits by T > 0 (temperature scaling).", DefaultValueFactory = _ => 1f };
        var topK = new Option<string?>("--top-k") { Description = "Top-k accuracy for each k of a comma-separated list (e.g. 1,5,10)." };
        var models = new ModelOptions();
        var rates = TextRates.ForModelText();
        var corpus = new CorpusOptions("Write a per-token value (float32 .npy; the loss in nats unless --per-token-measure says otherwise), one per scored token.", 64);
        var perTokenMeasure = PerTokenMeasures.Evaluation();
        var perDocument = PerDocumentWriter.Option();
        var plot = new Option<string?>("--plot") { Description = "Draw the reliability diagram of the model's top-1 predictions (as eval --plot), as .svg or .png." };
        var command = new Command("perplexity", "Perplexity, bits per token and per byte of a text under an ONNX language model, over sliding windows (as the Hugging Face guide).") { model, temperature, topK, plot, perTokenMeasure.Option, perDocument };
        models.AddTo(command);
        models.AddSamplesTo(command);
        corpus.AddTo(command);
        rates.AddTo(command);
        common.AddTo(command);
        command.SetAction(parse =>
        {
            var clock = Stopwatch.StartNew();
            var windows = models.Windows(parse, parse.GetValue(model));
            models.CheckProvider(parse);
            var options = new CrossEntropyOptions { Temperature = parse.GetValue(temperature) };
            Guard.Temperature(options.Temperature);
            var (shard, shardFrom) = corpus.ParseShard(parse);
            var (bytes, words) = rates.Parse(parse);
            int[]? ks = EvalCommand.ParseTopK(parse.GetValue(topK));
            string? plotPath = parse.GetValue(plot);
            PlotFile.Check(plotPath);
            PerDocumentWriter.Check(parse, perDocument, corpus.PerToken);
            var perRow = perTokenMeasure.Get(parse, corpus.PerToken, perDocument);
            if (models.SamplesGiven(parse))
            {
                CheckSamples(parse, corpus, shard, bytes, words, perRow);
            }
            if (shard.Count > 1 && (bytes ?? words) is not null)
            {
                throw CliException.Usage("--total-bytes and --total-words count the whole text: give them to 'gpuinfo merge', not to one shard.");
            }

            var modelText = models.ReadModelText(parse, showProgress: !parse.GetValue(common.Json), shards: shard.Count, notes: stderr, model: parse.GetValue(model));
            var (text, tokenizeSeconds) = (modelText.Tokens, modelText.Seconds);
            if (bytes is not null && text.Bytes is not null)
            {
                throw CliException.Usage("the tokenizer counts each token's bytes: --total-bytes applies to --tokens only.");
            }

            if (words is not null && text.Words is not null)
            {
                throw CliException.Usage("the tokenizer counts the words each token begins: --total-words applies to --tokens only.");
            }

            var planned = ModelRowSource.WindowsOf(text, windows);
            TextRates.CheckWholeText(bytes, words, planned.Unscored - (planned.Tokens - text.TextTokens), windows.Context, windows.Stride, windows.Protocol);

            var load = Stopwatch.StartNew();
            using var lm = models.OpenModel(parse, parse.GetValue(model)!, modelText);
            EvalCommand.CheckTopK(ks, lm.Vocab);
            using var source = new ModelRowSource(lm, text, windows);
            using var engines = common.CreateEngines(parse);
            double loadSeconds = load.Elapsed.TotalSeconds;
            bool json = parse.GetValue(common.Json);
            var documents = PerDocumentWriter.Create(parse, perDocument, perTokenMeasure.Name(parse), source, modelText, shard);
            var harness = modelText.Samples is null ? null : new SampledDocuments(modelText.Samples, source);
            var partial = corpus.Run(parse, source, source.RowBytes, "perplexity", json, shard, run => CorpusRun.Evaluate(engines.List, source, options,
                run with { TopK = ks, EvaluationPerRow = perRow, PerRow = Chain(harness is null ? null : harness.AddLosses, documents?.Chain(run.PerRow) ?? run.PerRow) }));
            documents?.Write();
            double seconds = clock.Elapsed.TotalSeconds;
            var report = EvalCommand.Report(partial.Evaluation!, partial.IgnoredTargets, engines.Description, seconds);
            EvalCommand.AddShard(report, shard, shardFrom);
            TextRates.AddTo(report, partial.Evaluation!, bytes, words);
            harness?.AddTo(report, partial.Evaluation!);
            report["model"] = lm.Path;
            report["provider"] = lm.Provider;
            report["text"] = text.Name;
            ModelOptions.AddWindows(report, source);
            report["context_source"] = models.ContextSource;
            ModelOptions.AddTiming(report, partial.Evaluation!.Tokens, seconds, loadSeconds, tokenizeSeconds, lm.RunSeconds);
            if (plotPath is not null)
            {
                ReliabilityPlot.Save(plotPath, partial.Evaluation.Calibration!, Path.GetFileName(lm.Path));
            }

            if (json)
            {
                Json.Write(stdout, report);
            }
            else
            {
                Tables.Console(stdout).Write(Tables.KeyValue($"perplexity {lm.Path} on {text.Name} ({DeviceNames.Kind(engines.First.Device.Kind)})", report.Select(kv => (kv.Key, Tables.Value(kv.Value)))));
            }

            return ExitCode.Ok;
        });
        return command;
    }

    /// <summary>--samples compare one whole run's per-document losses with the harness's: what would change them, or split the run, is refused.</summary>
    private static void CheckSamples(ParseResult parse, CorpusOptions corpus, Shard shard, long? bytes, long? words, EvaluationValue perRow)
    {
        if (shard.Count > 1 || parse.GetValue(corpus.Sharding.Partial) is not null || parse.GetValue(corpus.Sharding.PartialDir) is not null)
        {
            throw CliException.Usage("--samples compares one whole run with the harness's: give no --shard, --partial or --partial-dir.");
        }

        if ((bytes ?? words) is not null)
        {
            throw CliException.Usage("--samples hold each document's words and bytes as the task counted them: give no --total-bytes or --total-words.");
        }

        if (perRow != EvaluationValue.Loss)
        {
            throw CliException.Usage("--per-token-measure: with --samples each document's loss is compared with the harness's; give loss (the default).");
        }
    }

    private static RowValuesHandler? Chain(RowValuesHandler? first, RowValuesHandler? next) => first is null ? next : next is null ? first : (row, values) =>
    {
        first(row, values);
        next(row, values);
    };
}
