using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;
using GpuInfo.Formats;
using GpuInfo.Models;

namespace GpuInfo.Cli.Verbs;

/// <summary><c>gpuinfo loglikelihood --hellaswag</c>: llama.cpp's HellaSwag score of an ONNX model (<see cref="LlamaCppHellaSwag"/>).</summary>
internal static partial class LoglikelihoodCommand
{
    private static int HellaSwag(TextWriter stdout, ParseResult parse, string path, int? count, string modelPath, ModelOptions models, CommonOptions common, ModelWindowOptions windows, string? perDocumentPath, Stopwatch clock)
    {
        if (count is < 1)
        {
            throw CliException.Usage($"--hellaswag-tasks {count}: score at least 1 task.");
        }

        var all = LlamaCppHellaSwag.Read(path, ModelDocuments.ReadText(path));
        var tasks = LlamaCppHellaSwag.Select(all, count);
        var tokenizer = models.LoadTokenizer(parse, modelPath);
        var encoded = LlamaCppHellaSwag.Encode(tokenizer, tasks, path);
        for (int d = 0; d < encoded.DocumentStarts.Count; d++)
        {
            // llama.cpp scores each sequence whole; a window cut from the left would score another text.
            if (encoded.Document(d).Length - 1 > windows.Context)
            {
                throw new InvalidFileException(path, $"task {tasks[d / 4].Index}, ending {d % 4}: {encoded.Document(d).Length} tokens, more than --context {windows.Context} + 1 score whole in one window.");
            }
        }

        double tokenizeSeconds = clock.Elapsed.TotalSeconds;
        var modelText = new ModelText(encoded, tokenizer, null, tokenizeSeconds) { DocumentNames = [.. Enumerable.Range(0, encoded.DocumentStarts.Count).Select(d => $"task {tasks[d / 4].Index} ending {d % 4}")] };
        var load = Stopwatch.StartNew();
        using var engines = common.CreateEngines(parse);
        using var lm = models.OpenModel(parse, modelPath, modelText);
        double loadSeconds = load.Elapsed.TotalSeconds;
        int[]? order = null;
        var scoredText = windows.Batch > 1 ? LoglikelihoodRequests.LongestFirst(encoded, windows.Context, out order) : encoded;
        var scores = Score(lm, scoredText, order, windows, engines, parse.GetValue(common.Json), "scoring endings");
        var scored = LlamaCppHellaSwag.Score(tasks, scores);
        int right = scored.Count(s => s.Right);
        var (low, high) = LlamaCppHellaSwag.Wilson(right, scored.Count);
        var report = new JsonObject
        {
            ["task"] = "llama.cpp hellaswag",
            ["tasks"] = scored.Count,
            ["tasks_in_file"] = all.Count,
            ["acc_norm"] = Json.Number((double)right / scored.Count),
            ["acc_norm_ci_low"] = Json.Number(low),
            ["acc_norm_ci_high"] = Json.Number(high),
            ["model"] = lm.Path,
            ["text"] = path,
            ["tokenizer"] = tokenizer.Name,
            ["context"] = windows.Context,
            ["provider"] = lm.Provider,
            ["device"] = engines.Description,
        };
        double seconds = clock.Elapsed.TotalSeconds;
        report["seconds"] = Math.Round(seconds, 3);
        ModelOptions.AddTiming(report, scores.Sum(s => s.ContinuationTokens), seconds, loadSeconds, tokenizeSeconds, lm.RunSeconds);
        if (perDocumentPath is not null)
        {
            PerDocumentLines.Write(perDocumentPath, scored.Select((s, i) => new JsonObject
            {
                ["document"] = i,
                ["task"] = s.Task.Index,
                ["gold"] = s.Task.Gold,
                ["prediction"] = s.Prediction,
                ["acc_norm"] = s.Right ? 1 : 0,
                ["mean_logprobs"] = new JsonArray([.. s.Means.Select(m => Json.Number(m))]),
                ["scored_tokens"] = new JsonArray([.. Enumerable.Range(0, 4).Select(e => (JsonNode)scores[(4 * i) + e].ContinuationTokens)]),
            }));
        }

        CompareCommand.Print(stdout, parse.GetValue(common.Json), $"llama.cpp hellaswag of {lm.Path} ({scored.Count} tasks)", report);
        return ExitCode.Ok;
    }
}
