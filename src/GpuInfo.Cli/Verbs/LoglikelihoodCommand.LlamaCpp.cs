using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;
using GpuInfo.Formats;
using GpuInfo.Models;

namespace GpuInfo.Cli.Verbs;

/// <summary><c>gpuinfo loglikelihood --hellaswag | --multiple-choice</c>: llama.cpp's multiple-choice scores of an ONNX model (<see cref="LlamaCppChoiceTasks"/>).</summary>
internal static partial class LoglikelihoodCommand
{
    private static int LlamaCppTasks(TextWriter stdout, ParseResult parse, string path, int? count, LlamaCppChoiceTasks.Format format, string modelPath, ModelOptions models, CommonOptions common, ModelWindowOptions windows, string? perDocumentPath, Stopwatch clock)
    {
        bool hellaswag = format == LlamaCppChoiceTasks.Format.HellaSwag;
        string option = hellaswag ? "--hellaswag" : "--multiple-choice";
        if (count is < 1)
        {
            throw CliException.Usage($"{option}-tasks {count}: score at least 1 task.");
        }

        var all = hellaswag ? LlamaCppChoiceTasks.ReadHellaSwag(path, ModelDocuments.ReadText(path)) : LlamaCppChoiceTasks.ReadMultipleChoice(path, ReadBytes(path));
        var tasks = LlamaCppChoiceTasks.Select(all, count, format);
        var tokenizer = models.LoadTokenizer(parse, modelPath);
        var encoded = LlamaCppChoiceTasks.Encode(tokenizer, tasks, path);
        var (taskOf, answerOf) = (new int[encoded.DocumentStarts.Count], new int[encoded.DocumentStarts.Count]);
        for (int t = 0, d = 0; t < tasks.Count; t++)
        {
            for (int a = 0; a < tasks[t].Answers.Count; a++, d++)
            {
                (taskOf[d], answerOf[d]) = (tasks[t].Index, a);
            }
        }

        for (int d = 0; d < encoded.DocumentStarts.Count; d++)
        {
            // llama.cpp scores each sequence whole; a window cut from the left would score another text.
            if (encoded.Document(d).Length - 1 > windows.Context)
            {
                throw new InvalidFileException(path, $"task {taskOf[d]}, answer {answerOf[d]}: {encoded.Document(d).Length} tokens, more than --context {windows.Context} + 1 score whole in one window.");
            }
        }

        double tokenizeSeconds = clock.Elapsed.TotalSeconds;
        var modelText = new ModelText(encoded, tokenizer, null, tokenizeSeconds) { DocumentNames = [.. taskOf.Select((t, d) => $"task {t} answer {answerOf[d]}")] };
        var load = Stopwatch.StartNew();
        using var engines = common.CreateEngines(parse);
        using var lm = models.OpenModel(parse, modelPath, modelText);
        double loadSeconds = load.Elapsed.TotalSeconds;
        int[]? order = null;
        var scoredText = windows.Batch > 1 ? LoglikelihoodRequests.LongestFirst(encoded, windows.Context, out order) : encoded;
        var scores = Score(lm, scoredText, order, windows, engines, parse.GetValue(common.Json), "scoring answers");
        var scored = LlamaCppChoiceTasks.Score(tasks, scores);
        int right = scored.Count(s => s.Right), n = scored.Count;
        double p = (double)right / n;
        var report = new JsonObject { ["task"] = hellaswag ? "llama.cpp hellaswag" : "llama.cpp multiple choice", ["tasks"] = n, ["tasks_in_file"] = all.Count };
        if (hellaswag)
        {
            var (low, high) = LlamaCppChoiceTasks.Wilson(right, n);
            report["acc_norm"] = Json.Number(p);
            report["acc_norm_ci_low"] = Json.Number(low);
            report["acc_norm_ci_high"] = Json.Number(high);
        }
        else
        {
            // llama.cpp's "Final result" and "Random chance", each ± sqrt(p (1 - p) / (n - 1)).
            double chance = (double)n / tasks.Sum(t => t.Answers.Count);
            report["acc"] = Json.Number(p);
            report["acc_stderr"] = Json.Number(Math.Sqrt(p * (1 - p) / (n - 1)));
            report["random_chance"] = Json.Number(chance);
            report["random_chance_stderr"] = Json.Number(Math.Sqrt(chance * (1 - chance) / (n - 1)));
        }

        report["model"] = lm.Path;
        report["text"] = path;
        report["tokenizer"] = tokenizer.Name;
        report["context"] = windows.Context;
        report["provider"] = lm.Provider;
        report["device"] = engines.Description;
        double seconds = clock.Elapsed.TotalSeconds;
        report["seconds"] = Math.Round(seconds, 3);
        ModelOptions.AddTiming(report, scores.Sum(s => s.ContinuationTokens), seconds, loadSeconds, tokenizeSeconds, lm.RunSeconds);
        if (perDocumentPath is not null)
        {
            int first = 0;
            PerDocumentLines.Write(perDocumentPath, scored.Select((s, i) =>
            {
                var line = new JsonObject
                {
                    ["document"] = i,
                    ["task"] = s.Task.Index,
                    ["correct"] = new JsonArray([.. s.Task.Correct.Select(c => (JsonNode)(c ? 1 : 0))]),
                    ["prediction"] = s.Prediction,
                    [hellaswag ? "acc_norm" : "acc"] = s.Right ? 1 : 0,
                    ["mean_logprobs"] = new JsonArray([.. s.Means.Select(m => Json.Number(m))]),
                    ["scored_tokens"] = new JsonArray([.. Enumerable.Range(first, s.Task.Answers.Count).Select(r => (JsonNode)scores[r].ContinuationTokens)]),
                };
                first += s.Task.Answers.Count;
                return line;
            }).ToList());
        }

        CompareCommand.Print(stdout, parse.GetValue(common.Json), $"{report["task"]} of {lm.Path} ({n} tasks)", report);
        return ExitCode.Ok;
    }

    private static byte[] ReadBytes(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InvalidFileException(path, "no such file.");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidFileException(path, $"cannot be read: {e.Message}");
        }
    }
}
