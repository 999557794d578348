using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;
using GpuInfo.Formats;
using GpuInfo.Models;

namespace GpuInfo.Cli.Verbs;

/// <summary><c>gpuinfo loglikelihood --hellaswag | --multiple-choice | --winogrande</c>: llama.cpp's multiple-choice scores of an ONNX model (<see cref="LlamaCppChoiceTasks"/>, <see cref="LlamaCppWinogrande"/>).</summary>
internal static partial class LoglikelihoodCommand
{
    private static int LlamaCppTasks(TextWriter stdout, ParseResult parse, string path, int? count, LlamaCppChoiceTasks.Format format, string modelPath, string? basePath, ModelOptions models, CommonOptions common, ModelWindowOptions windows, string contextSource, string? perDocumentPath, Stopwatch clock)
    {
        bool hellaswag = format == LlamaCppChoiceTasks.Format.HellaSwag;
        CheckTaskCount(hellaswag ? "--hellaswag" : "--multiple-choice", count);
        var all = hellaswag ? LlamaCppChoiceTasks.ReadHellaSwag(path, ModelDocuments.ReadText(path)) : LlamaCppChoiceTasks.ReadMultipleChoice(path, ReadBytes(path));
        // llama-perplexity scores 400 drawn HellaSwag tasks unless told otherwise; its other tasks, all in order.
        var tasks = LlamaCppChoiceTasks.Select(all, hellaswag ? count ?? LlamaCppChoiceTasks.HellaSwagDefaultTasks : count, format);
        var tokenizer = models.LoadTokenizer(parse, modelPath);
        var encoded = LlamaCppChoiceTasks.Encode(tokenizer, tasks, path);
        var names = new List<string>();
        foreach (var task in tasks)
        {
            names.AddRange(task.Answers.Select((_, a) => $"task {task.Index}, answer {a}"));
        }

        return RunLlamaCppTasks(stdout, parse, path, encoded, [.. tasks.Select(t => t.Answers.Count)], names, modelPath, basePath, tokenizer, models, common, windows, contextSource, perDocumentPath, clock, scores =>
        {
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

            int first = 0;
            var lines = scored.Select((s, i) =>
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
            }).ToList();
            return new LlamaCppFigures(report, lines, hellaswag ? ["acc_norm", "acc_norm_ci_low", "acc_norm_ci_high"] : ["acc", "acc_stderr"], [.. scored.Select(s => s.Prediction)], [.. scored.Select(s => s.Right)]);
        });
    }

    private static int WinograndeTasks(TextWriter stdout, TextWriter stderr, ParseResult parse, string path, int? count, string modelPath, string? basePath, ModelOptions models, CommonOptions common, ModelWindowOptions windows, string contextSource, string? perDocumentPath, Stopwatch clock)
    {
        CheckTaskCount("--winogrande", count);
        var file = LlamaCppWinogrande.Read(path, ModelDocuments.ReadText(path));

        var tasks = LlamaCppWinogrande.Select(file.Tasks, count);
        var tokenizer = models.LoadTokenizer(parse, modelPath);
        var (encoded, plans) = LlamaCppWinogrande.Encode(tokenizer, tasks, path);
        var names = new string[encoded.DocumentStarts.Count];
        foreach (var plan in plans)
        {
            for (int s = 0; s < 2; s++)
            {
                foreach (int r in plan.Requests[s])
                {
                    names[r] = $"task {plan.Task.Index} (line {plan.Task.Line}), choice {s + 1}";
                }
            }
        }

        int code = RunLlamaCppTasks(stdout, parse, path, encoded, [.. plans.Select(p => p.Requests.Sum(r => r.Count))], names, modelPath, basePath, tokenizer, models, common, windows, contextSource, perDocumentPath, clock, scores =>
        {
            var scored = LlamaCppWinogrande.Score(plans, scores);
            int n = scored.Count;
            double p = (double)scored.Count(s => s.Right) / n;
            // llama.cpp's "Final Winogrande score": p ± sqrt(p (1 - p) / (n - 1)) (which it prints from 100 tasks on).
            var report = new JsonObject
            {
                ["task"] = "llama.cpp winogrande",
                ["tasks"] = n,
                ["tasks_in_file"] = file.Tasks.Count,
                ["acc"] = Json.Number(p),
                ["acc_stderr"] = Json.Number(Math.Sqrt(p * (1 - p) / (n - 1))),
                ["choice_skipped_tasks"] = scored.Count(s => s.Plan.ChoiceSkipped),
                ["misread_tokens"] = scored.Sum(s => s.Plan.Misread),
            };
            if (file.UnreadLastLine is { } line)
            {
                report["unread_last_line"] = line;
            }

            var lines = scored.Select((s, i) => new JsonObject
            {
                ["document"] = i,
                ["task"] = s.Plan.Task.Index,
                ["line"] = s.Plan.Task.Line,
                ["answer"] = s.Plan.Task.Answer,
                ["prediction"] = s.Prediction,
                ["acc"] = s.Right ? 1 : 0,
                ["mean_logprobs"] = new JsonArray(Json.Number(s.Mean1), Json.Number(s.Mean2)),
                ["scored_tokens"] = new JsonArray(s.Plan.Tokens[0], s.Plan.Tokens[1]),
                ["choice_skipped"] = s.Plan.ChoiceSkipped,
                ["misread_tokens"] = s.Plan.Misread,
            }).ToList();
            return new LlamaCppFigures(report, lines, ["acc", "acc_stderr"], [.. scored.Select(s => s.Prediction)], [.. scored.Select(s => s.Right)]);
        });

        // After the report, so that a run that fails says one line: its error.
        if (file.UnreadLastLine is { } unread)
        {
            stderr.WriteLine($"gpuinfo: note: {path}:{unread}: not scored, as llama.cpp does not read a file's last line (its -f drops the final line break); put a blank line after it to score it in both.");
        }

        return code;
    }

    private static void CheckTaskCount(string option, int? count)
    {
        if (count is < 1)
        {
            throw CliException.Usage($"{option}-tasks {count}: score at least 1 task.");
        }
    }

    /// <summary>
    /// One model's figures of llama.cpp's tasks: the report's head (its figures named in <paramref name="Metrics"/>, the
    /// first the per-task one), a line per task, and each task's prediction and whether it is right.
    /// </summary>
    private sealed record LlamaCppFigures(JsonObject Report, List<JsonObject> Lines, string[] Metrics, int[] Predictions, bool[] Right);

    /// <summary>
    /// Scores llama.cpp's task requests (each whole in one window) by the model, and by the base where one is given, then
    /// reports what <paramref name="figures"/> makes of their scores with the model, the tokenizer and the time split;
    /// with a base, its figures beside the model's and the paired difference over the same tasks (flips, McNemar).
    /// </summary>
    private static int RunLlamaCppTasks(TextWriter stdout, ParseResult parse, string path, TokenizedText encoded, int[] groups, IReadOnlyList<string> names, string modelPath, string? basePath, TextTokenizer tokenizer, ModelOptions models, CommonOptions common, ModelWindowOptions windows, string contextSource, string? perDocumentPath, Stopwatch clock, Func<RequestScore[], LlamaCppFigures> figures)
    {
        for (int d = 0; d < encoded.DocumentStarts.Count; d++)
        {
            // llama.cpp scores each sequence whole; a window cut from the left would score another text.
            if (encoded.Document(d).Length - 1 > windows.Context)
            {
                throw new InvalidFileException(path, $"{names[d]}: {encoded.Document(d).Length} tokens, more than --context {windows.Context} + 1 score whole in one window.");
            }
        }

        double tokenizeSeconds = clock.Elapsed.TotalSeconds;
        var modelText = new ModelText(encoded, tokenizer, null, tokenizeSeconds) { DocumentNames = names };
        var load = Stopwatch.StartNew();
        using var engines = common.CreateEngines(parse);
        using var lm = models.OpenModel(parse, modelPath, modelText);
        using var reference = basePath is null ? null : models.OpenModel(parse, basePath, modelText);
        double loadSeconds = load.Elapsed.TotalSeconds;
        int[]? order = null;
        var scoredText = windows.Batch > 1 && !PastSharing.Applies(lm, reference, true) ? LoglikelihoodRequests.LongestFirst(encoded, windows.Context, out order) : LoglikelihoodRequests.Grouped(encoded, groups);
        bool quiet = parse.GetValue(common.Json);
        var sharing = new PastSharing();
        var scores = Score(lm, scoredText, order, windows, engines, quiet, reference is null ? "scoring answers" : "scoring answers: --model", sharing);
        var ours = figures(scores);
        var report = ours.Report;
        if (reference is not null)
        {
            var baseScores = Score(reference, scoredText, order, windows, engines, quiet, "scoring answers: --base", sharing);
            AddBase(ours, figures(baseScores), scores, baseScores);
            report["base"] = reference.Path;
        }

        report["model"] = lm.Path;
        report["text"] = path;
        report["tokenizer"] = tokenizer.Name;
        report["context"] = windows.Context;
        report["context_source"] = contextSource;
        report["provider"] = lm.Provider;
        report["device"] = engines.Description;
        double seconds = clock.Elapsed.TotalSeconds;
        report["seconds"] = Math.Round(seconds, 3);
        ModelOptions.AddTiming(report, scores.Sum(s => s.ContinuationTokens) * (reference is null ? 1 : 2), seconds, loadSeconds, tokenizeSeconds, lm.RunSeconds + (reference?.RunSeconds ?? 0));
        sharing.AddTo(report, lm, reference);
        if (perDocumentPath is not null)
        {
            PerDocumentLines.Write(perDocumentPath, ours.Lines);
        }

        CompareCommand.Print(stdout, quiet, $"{report["task"]} of {lm.Path}{(reference is null ? "" : $" against {reference.Path}")} ({report["tasks"]} tasks)", report);
        return ExitCode.Ok;
    }

    /// <summary>
    /// The base's figures beside the model's (<c>base_</c> before each name), and the paired difference over the same
    /// tasks: the per-task figure's difference ± the differences' sample standard deviation over √n, the share of tasks
    /// with the same prediction, the tasks only the base gets right (<c>right_to_wrong</c>) and only the model
    /// (<c>wrong_to_right</c>), McNemar's exact p of those, and how far the requests' log-likelihoods differ.
    /// </summary>
    private static void AddBase(LlamaCppFigures ours, LlamaCppFigures theirs, RequestScore[] scores, RequestScore[] baseScores)
    {
        var report = ours.Report;
        foreach (string metric in ours.Metrics)
        {
            report[$"base_{metric}"] = theirs.Report[metric]?.DeepClone();
        }

        string perTask = ours.Metrics[0];
        double[] differences = [.. ours.Right.Zip(theirs.Right, (a, b) => (a ? 1.0 : 0.0) - (b ? 1.0 : 0.0))];
        LoglikelihoodReport.AddDifference(report, perTask, differences);
        report["same_prediction"] = Json.Number(ours.Predictions.Zip(theirs.Predictions).Average(p => p.First == p.Second ? 1.0 : 0.0));
        LoglikelihoodReport.AddFlips(report, differences);
        var gaps = scores.Zip(baseScores, (a, b) => Math.Abs(a.LogLikelihood - b.LogLikelihood)).ToArray();
        report["loglikelihood_mean_abs_diff"] = Json.Number(gaps.Average());
        report["loglikelihood_max_abs_diff"] = Json.Number(gaps.Max());
        for (int i = 0; i < ours.Lines.Count; i++)
        {
            ours.Lines[i]["base_prediction"] = theirs.Predictions[i];
            ours.Lines[i][$"base_{perTask}"] = theirs.Right[i] ? 1 : 0;
            ours.Lines[i]["base_mean_logprobs"] = theirs.Lines[i]["mean_logprobs"]!.DeepClone();
        }
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
