using System.CommandLine;
using System.Diagnostics;
using GpuInfo.Cli.Output;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Models;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// <c>gpuinfo loglikelihood</c>: lm-evaluation-harness's <c>loglikelihood</c> requests (a context and a
/// continuation) scored by an ONNX causal LM, as its Hugging Face model scores them: each request's
/// log-likelihood and whether the model's greedy choice is the continuation at each of its tokens, and
/// over the requests its <c>acc</c> and <c>perplexity</c>. By default each document is a LAMBADA passage
/// (lm-evaluation-harness's <c>lambada_openai</c> and <c>lambada_standard</c> tasks: the last word after the
/// rest); with <c>--continuation-field</c>, any requests.
/// </summary>
internal static class LoglikelihoodCommand
{
    public static Command Create(TextWriter stdout)
    {
        var common = new CommonOptions();
        var model = new Option<string>("--model") { Description = "A causal LM in ONNX (as perplexity --model).", Required = true };
        var text = FileListOption.Create("--text", $"The requests: each document a LAMBADA passage (its last word scored after the rest), or with --continuation-field a request's context. {ModelDocuments.FilesHelp}", required: true, join: false);
        var field = new Option<string>("--text-field") { Description = "The field of a .jsonl line, or column of a .parquet file, holding each passage (or, with --continuation-field, each context).", DefaultValueFactory = _ => "text" };
        var continuationField = new Option<string?>("--continuation-field") { Description = "The field (or column) holding each request's continuation, scored after its --text-field context, instead of splitting a passage at its last space." };
        var prefix = new Option<string?>("--prefix-token") { Description = "The token an empty context stands as: an id, a token's text, auto (lm-evaluation-harness's prefix_token_id: the tokenizer's BOS, else its EOS; the default) or none." };
        var perRequest = new Option<string?>("--per-request") { Description = "Write one JSON line per request (.jsonl): its index, name, loglikelihood, is_greedy, and its continuation's and context's tokens (the context as the model saw it: cut from the left where the request is longer than --context + 1)." };
        var models = new ModelOptions();
        var command = new Command("loglikelihood", "lm-evaluation-harness's loglikelihood requests under an ONNX language model: LAMBADA's acc and perplexity, or any (context, continuation) requests.") { model, text, field, continuationField, prefix, perRequest };
        models.AddRequestOptionsTo(command);
        common.AddTo(command);
        command.SetAction(parse =>
        {
            var clock = Stopwatch.StartNew();
            var windows = models.RequestWindows(parse);
            models.CheckProvider(parse);
            string? perRequestPath = parse.GetValue(perRequest);
            OutputFile.Check(perRequestPath);
            string[] files = FileListOption.Get(parse, text)!;
            string contextField = parse.GetValue(field)!;
            string? continuations = parse.GetValue(continuationField);
            if (continuations is not null)
            {
                if (files.FirstOrDefault(f => !ModelDocuments.HasFields(f)) is { } plain)
                {
                    throw CliException.Usage($"--continuation-field reads fields: {plain} is not a .jsonl or .parquet file.");
                }

                if (continuations == contextField)
                {
                    throw CliException.Usage($"--continuation-field and --text-field both name '{contextField}': a request's context and continuation are two fields.");
                }
            }

            var tokenizer = models.LoadTokenizer(parse);
            string? given = parse.GetValue(prefix);
            int? prefixToken = given is null ? tokenizer.DocumentPrefix : ModelOptions.PrefixToken(given, $"--prefix-token {given}", tokenizer);
            var requests = Requests(files, contextField, continuations);
            string name = ModelDocuments.NameOf(files);
            var names = new List<string>();
            var encoded = LoglikelihoodRequests.Encode(tokenizer, requests.Select(r =>
            {
                names.Add(r.Name);
                return r;
            }), prefixToken, name);
            CheckLengths(encoded, names, windows.Context);
            double tokenizeSeconds = clock.Elapsed.TotalSeconds;
            var modelText = new ModelText(encoded, tokenizer, null, tokenizeSeconds) { DocumentNames = names };

            var load = Stopwatch.StartNew();
            using var lm = models.OpenModel(parse, parse.GetValue(model)!, modelText);
            if (prefixToken >= lm.Vocab && Enumerable.Range(0, names.Count).Any(d => encoded.Document(d)[0] == prefixToken))
            {
                throw CliException.Usage($"the prefix token {prefixToken} is not in the vocabulary of {lm.Path} (0 to {lm.Vocab - 1}).");
            }

            using var source = new ModelRowSource(lm, encoded, windows);
            using var engines = common.CreateEngines(parse);
            double loadSeconds = load.Elapsed.TotalSeconds;
            var scores = new RequestScores(source.Windows, encoded);
            var partial = ProgressBar.Run(!parse.GetValue(common.Json), "scoring", source.Rows * source.RowBytes, progress =>
                CorpusRun.Evaluate(engines.List, source, new CrossEntropyOptions(), new CorpusRunOptions
                {
                    PerRow = scores.AddLosses,
                    PerRowArgMax = scores.AddArgMax,
                    Progress = progress,
                }));
            scores.Check(partial.Evaluation!.Tokens);
            double seconds = clock.Elapsed.TotalSeconds;

            var report = scores.Report();
            report["task"] = continuations is null ? "lambada (last word)" : $"{contextField} -> {continuations}";
            report["model"] = lm.Path;
            report["provider"] = lm.Provider;
            report["text"] = name;
            report["tokenizer"] = tokenizer.Name;
            report["context"] = windows.Context;
            report["prefix_token"] = prefixToken;
            report["device"] = engines.Description;
            report["seconds"] = Math.Round(seconds, 3);
            ModelOptions.AddTiming(report, partial.Evaluation.Tokens, seconds, loadSeconds, tokenizeSeconds, lm.RunSeconds);
            if (perRequestPath is not null)
            {
                scores.Write(perRequestPath, names);
            }

            if (parse.GetValue(common.Json))
            {
                Json.Write(stdout, report);
            }
            else
            {
                Tables.Console(stdout).Write(Tables.KeyValue($"loglikelihood {lm.Path} on {name} ({DeviceNames.Kind(engines.First.Device.Kind)})", report.Select(kv => (kv.Key, Tables.Value(kv.Value)))));
            }

            return ExitCode.Ok;
        });
        return command;
    }

    /// <summary>The requests of the files: each document a LAMBADA passage, or a context and a continuation from two fields of each line or row.</summary>
    private static IEnumerable<LoglikelihoodRequest> Requests(string[] files, string field, string? continuationField)
    {
        if (continuationField is null)
        {
            return ModelDocuments.Read(files, field).Select(d => LoglikelihoodRequest.LastWord(d.Name, d.Content));
        }

        // Each file read once per field: the same lines or rows, in the same order (request files are small).
        return ModelDocuments.Read(files, field).Zip(ModelDocuments.Read(files, continuationField, option: "--continuation-field"),
            (context, continuation) => context.Name == continuation.Name ? new LoglikelihoodRequest(context.Name, context.Content, continuation.Content)
                : throw new InvalidOperationException($"{context.Name} and {continuation.Name} read as one request."));
    }

    /// <summary>Refuses a request whose continuation the context window cannot score whole, naming it (lm-evaluation-harness asserts it fits).</summary>
    private static void CheckLengths(TokenizedText encoded, IReadOnlyList<string> names, int context)
    {
        for (int d = 0; d < names.Count; d++)
        {
            if (encoded.Continuations![d] > context)
            {
                throw new InvalidFileException(names[d], $"has a continuation of {encoded.Continuations[d]} tokens, more than --context {context} scores in one window.");
            }
        }
    }
}
