using System.CommandLine;
using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;
using GpuInfo.Formats;
using GpuInfo.Models;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// <c>gpuinfo compare-samples --base A.jsonl --test B.jsonl</c>: two lm-evaluation-harness runs of one task (a base
/// model and its quantization, say, each run with <c>--log_samples</c> on any backend the harness has) compared document
/// by document, with no model here: the report <c>loglikelihood</c> makes of a run against its base (the test run's
/// figures, the base's beside them, the paired differences, flips and McNemar's test), for a
/// <c>loglikelihood_rolling</c> task (wikitext) both runs' word and byte perplexities and their documents' differences,
/// and for a <c>generate_until</c> task (GSM8K) or with <c>--logged-metrics</c> the per-document metrics the harness logged.
/// </summary>
internal static class CompareSamplesCommand
{
    public static Command Create(TextWriter stdout)
    {
        var json = CommonOptions.JsonOption();
        var baseSamples = FileListOption.Create("--base", "The base run's samples_TASK_DATE.jsonl (lm_eval --log_samples).", required: true, join: false);
        var testSamples = FileListOption.Create("--test", "The test run's samples of the same task and settings: the same documents and requests, in the same order.", required: true, join: false);
        var delimiter = new Option<string>("--target-delimiter") { Description = "A multiple_choice task's target_delimiter, put between the context and each choice.", DefaultValueFactory = _ => " " };
        var labels = new Option<string?>("--labels-field") { Description = $"Score each document by the labels of its true choices at this dotted path, as truthfulqa_mc2 does ({HarnessSamples.Mc2Labels} in its samples)." };
        var perDocument = new Option<string?>("--per-document") { Description = "Write one JSON line per document (.jsonl): the test run's scores and predictions, the base's beside them." };
        var logged = new Option<bool>("--logged-metrics") { Description = "Compare the per-document metrics the harness logged, as it logged them, for any task (a generate_until task's exact_match, a task that scores its own way); the default for generate_until tasks, whose requests hold no log-likelihoods." };
        var bootstrap = new Option<int>("--bootstrap-iters") { Description = "Resamples of lm-evaluation-harness's bootstrap perplexity_stderr of a loglikelihood task (its --bootstrap_iters); 0 for none.", DefaultValueFactory = _ => HarnessBootstrap.DefaultIterations };
        var command = new Command("compare-samples", "Compare two lm-evaluation-harness runs of one loglikelihood, multiple_choice or loglikelihood_rolling task (their --log_samples files) document by document: accuracies and their paired difference, flips, McNemar's test, perplexities, log-likelihood differences.")
            { baseSamples, testSamples, delimiter, labels, logged, perDocument, bootstrap, json };
        command.SetAction(parse =>
        {
            string? perDocumentPath = parse.GetValue(perDocument);
            OutputFile.Check(perDocumentPath);
            int iterations = parse.GetValue(bootstrap);
            if (iterations is < 0 or 1)
            {
                throw CliException.Usage($"--bootstrap-iters {iterations}: give 0 (no perplexity_stderr) or at least 2 resamples.");
            }

            string[] basePaths = FileListOption.Get(parse, baseSamples)!, testPaths = FileListOption.Get(parse, testSamples)!;
            string? labelsPath = parse.GetValue(labels);
            var kind = parse.GetValue(logged) ? HarnessSamples.SampleKind.Generation : HarnessSamples.KindOf(basePaths);
            if (kind != HarnessSamples.SampleKind.Requests && labelsPath is not null)
            {
                throw CliException.Usage($"--labels-field: {(kind == HarnessSamples.SampleKind.Rolling ? "a loglikelihood_rolling task's documents have no choices to label" : "the logged metrics are compared as logged")}.");
            }

            var (report, lines) = kind switch
            {
                HarnessSamples.SampleKind.Rolling => Rolling(basePaths, testPaths),
                HarnessSamples.SampleKind.Generation => Logged(basePaths, testPaths),
                _ => Requests(basePaths, testPaths, parse.GetValue(delimiter)!, labelsPath, iterations),
            };
            report["base"] = ModelDocuments.NameOf(basePaths);
            report["test"] = ModelDocuments.NameOf(testPaths);
            if (perDocumentPath is not null)
            {
                PerDocumentLines.Write(perDocumentPath, lines);
            }

            CompareCommand.Print(stdout, parse.GetValue(json), $"compare-samples {report["test"]} against {report["base"]}", report);
            return ExitCode.Ok;
        });
        return command;
    }

    /// <summary>A loglikelihood or multiple_choice task's two runs: the test run's documents scored with its own log-likelihoods, the base's as the other run's.</summary>
    private static (JsonObject Report, IEnumerable<JsonObject> Lines) Requests(string[] basePaths, string[] testPaths, string delimiter, string? labels, int iterations)
    {
        var documents = new List<ScoredDocument>();
        var metrics = new List<string>();
        foreach (var (base_, test) in Paired(HarnessSamples.Read(basePaths, delimiter, labels), HarnessSamples.Read(testPaths, delimiter, labels), s => s.Name, s => s.Key, ModelDocuments.NameOf(basePaths)))
        {
            for (int r = 0; r < base_.Requests.Count || r < test.Requests.Count; r++)
            {
                if (r >= base_.Requests.Count || r >= test.Requests.Count || base_.Requests[r].Context != test.Requests[r].Context || base_.Requests[r].Continuation != test.Requests[r].Continuation)
                {
                    throw new InvalidFileException(test.Name, $"request {r} is not the base's ({base_.Name}): the two runs must be of one task with the same settings (few-shot examples, templates).");
                }
            }

            if (base_.Choices is { } b && test.Choices is { } t && b.Gold != t.Gold)
            {
                throw new InvalidFileException(test.Name, $"its gold is choice {t.Gold}, the base's ({base_.Name}) choice {b.Gold}: not the same document.");
            }

            documents.Add(new ScoredDocument(test.Name, [.. test.Harness.Select(h => new RequestScore(h.LogLikelihood, h.IsGreedy, 0, 0, false))], test.Choices, base_.Harness) { File = base_.File });
            metrics.AddRange(base_.Metrics.Where(m => !metrics.Contains(m)));
        }

        var report = LoglikelihoodReport.Report(documents, "base", iterations, metrics, [.. basePaths.Select(HarnessSamples.TaskOf)]);
        report["task"] = $"lm-evaluation-harness samples ({(documents[0].Choices is null ? "loglikelihood" : "multiple choice")}{(labels is null ? "" : $", true choices {labels}")})";
        if (LoglikelihoodReport.Tasks(documents, [.. basePaths.Select(HarnessSamples.TaskOf)], "base", metrics) is { } tasks)
        {
            report["tasks"] = tasks;
            if (HarnessGroups.Rows(tasks, "base") is { } groups)
            {
                report["groups"] = groups;
            }
        }

        return (report, LoglikelihoodReport.Lines(documents, 0, "base"));
    }

    /// <summary>A loglikelihood_rolling task's two runs: each run's rates over the words and bytes the task counted, and the documents' differences.</summary>
    private static (JsonObject Report, IEnumerable<JsonObject> Lines) Rolling(string[] basePaths, string[] testPaths)
    {
        var pairs = new List<(HarnessSamples.RollingSample Base, HarnessSamples.RollingSample Test)>();
        foreach (var (base_, test) in Paired(HarnessSamples.ReadRolling(basePaths), HarnessSamples.ReadRolling(testPaths), s => s.Name, s => s.Key, ModelDocuments.NameOf(basePaths)))
        {
            if (base_.Text != test.Text || base_.Words != test.Words || base_.Bytes != test.Bytes)
            {
                throw new InvalidFileException(test.Name, $"is not the base's document ({base_.Name}): {(base_.Text != test.Text ? "another text" : "other counts of words or bytes")}; the two runs must be of one task with the same settings.");
            }

            pairs.Add((base_, test));
        }

        var report = new JsonObject
        {
            ["documents"] = pairs.Count,
            ["task"] = "lm-evaluation-harness samples (loglikelihood_rolling)",
        };
        var (words, bytes) = HarnessRates.Counts(pairs.Select(p => p.Base));
        report["words"] = words;
        report["bytes"] = bytes;
        HarnessRates.Add(report, "", pairs.Select(p => p.Test.LogLikelihood), words, bytes);
        HarnessRates.Add(report, "base_", pairs.Select(p => p.Base.LogLikelihood), words, bytes);
        HarnessRates.AddDifferences(report, [.. pairs.Select(p => p.Test.LogLikelihood - p.Base.LogLikelihood)]);
        var lines = pairs.Select((p, d) => new JsonObject
        {
            ["document"] = d,
            ["name"] = p.Test.Name,
            ["loglikelihood"] = Json.Number(p.Test.LogLikelihood),
            ["base_loglikelihood"] = Json.Number(p.Base.LogLikelihood),
            ["words"] = p.Test.Words,
            ["bytes"] = p.Test.Bytes,
        });
        return (report, lines);
    }

    /// <summary>
    /// Any task's two runs by the metrics the harness logged for each document, per filter (the harness's
    /// <c>metric,filter</c>): each run's mean, the paired difference and its standard error, and where every value is 0 or
    /// 1 the flips each way and McNemar's exact p-value. Metrics whose per-sample values are not numbers (f1's pairs)
    /// are named in <c>not_compared</c>.
    /// </summary>
    private static (JsonObject Report, IEnumerable<JsonObject> Lines) Logged(string[] basePaths, string[] testPaths)
    {
        var pairs = new List<(HarnessSamples.LoggedSample Base, HarnessSamples.LoggedSample Test)>();
        foreach (var (base_, test) in Paired(HarnessSamples.ReadLogged(basePaths), HarnessSamples.ReadLogged(testPaths), s => s.Name, s => s.Key, ModelDocuments.NameOf(basePaths)))
        {
            string? different = base_.Arguments != test.Arguments ? "arguments" : !base_.Metrics.Keys.Order(StringComparer.Ordinal).SequenceEqual(test.Metrics.Keys.Order(StringComparer.Ordinal)) ? "metrics" : null;
            if (different is not null)
            {
                throw new InvalidFileException(test.Name, $"its \"{different}\" differs from the base's ({base_.Name}): the two runs must be of one task with the same settings, logged in the same order.");
            }

            pairs.Add((base_, test));
        }

        if (!pairs.Any(p => p.Base.Metrics.Count > 0))
        {
            throw new InvalidFileException(pairs[0].Base.Name, $"logs no metric whose per-sample value is a number ({string.Join(", ", pairs[0].Base.Unpaired)}: aggregated over the whole task), so there is nothing to compare document by document.");
        }

        var report = MetricEntries(pairs);
        report["task"] = "lm-evaluation-harness samples (logged metrics)";
        if (basePaths.Length > 1)
        {
            report["tasks"] = new JsonArray([.. Enumerable.Range(0, basePaths.Length).Select(f =>
            {
                var entry = new JsonObject { ["task"] = HarnessSamples.TaskOf(basePaths[f]) };
                foreach (var (key, value) in MetricEntries([.. pairs.Where(p => p.Base.File == f)]))
                {
                    entry[key] = value?.DeepClone();
                }

                return (JsonNode)entry;
            })]);
        }

        var unpaired = pairs.SelectMany(p => p.Base.Unpaired.Select(m => $"{m},{p.Base.Filter}")).Distinct().ToArray();
        if (unpaired.Length > 0)
        {
            report["not_compared"] = new JsonArray([.. unpaired.Select(u => (JsonNode)u)]);
        }

        var lines = pairs.Select((p, i) =>
        {
            var line = new JsonObject
            {
                ["sample"] = i,
                ["name"] = p.Test.Name,
                ["filter"] = p.Test.Filter,
            };
            foreach (var (metric, value) in p.Test.Metrics)
            {
                line[metric] = Json.Number(value);
                line[$"base_{metric}"] = Json.Number(p.Base.Metrics[metric]);
            }

            return line;
        });
        return (report, lines);
    }

    /// <summary>
    /// The documents and samples of the pairs, and for each metric and filter each run's mean and its standard error, the
    /// paired difference and its standard error, and where every value is 0 or 1 the flips each way and McNemar's p.
    /// </summary>
    private static JsonObject MetricEntries(IReadOnlyList<(HarnessSamples.LoggedSample Base, HarnessSamples.LoggedSample Test)> pairs)
    {
        var report = new JsonObject
        {
            ["documents"] = pairs.Select(p => p.Base.Key[..p.Base.Key.LastIndexOf(", filter ", StringComparison.Ordinal)]).Distinct().Count(),
            ["samples"] = pairs.Count,
        };
        foreach (var (metric, filter) in pairs.SelectMany(p => p.Base.Metrics.Keys.Select(m => (Metric: m, p.Base.Filter))).Distinct())
        {
            var values = pairs.Where(p => p.Base.Filter == filter && p.Base.Metrics.ContainsKey(metric)).Select(p => (Base: p.Base.Metrics[metric], Test: p.Test.Metrics[metric], p.Base.File)).ToArray();
            double[] differences = [.. values.Select(v => v.Test - v.Base)];
            var entry = new JsonObject
            {
                ["test"] = Json.Number(values.Average(v => v.Test)),
                ["base"] = Json.Number(values.Average(v => v.Base)),
                ["test_stderr"] = Json.Number(LoglikelihoodReport.HarnessStderr([.. values.Select(v => v.Test)], values.Select(v => v.File))),
                ["base_stderr"] = Json.Number(LoglikelihoodReport.HarnessStderr([.. values.Select(v => v.Base)], values.Select(v => v.File))),
                ["diff"] = Json.Number(differences.Average()),
                ["diff_stderr"] = Json.Number(LoglikelihoodReport.MeanStderr(differences)),
            };
            if (values.All(v => v.Base is 0 or 1 && v.Test is 0 or 1))
            {
                long rightToWrong = differences.LongCount(d => d < 0), wrongToRight = differences.LongCount(d => d > 0);
                entry["right_to_wrong"] = rightToWrong;
                entry["wrong_to_right"] = wrongToRight;
                entry["mcnemar_p"] = Json.Number(McNemar.ExactP(rightToWrong, wrongToRight));
            }

            report[$"{metric},{filter}"] = entry;
        }

        return report;
    }

    /// <summary>
    /// The two runs' documents side by side, in the base run's order, each paired with the test run's of the same key
    /// (file, <c>doc_id</c> and filter: a run logged on several ranks holds its documents in another order).
    /// </summary>
    /// <exception cref="InvalidFileException">A document of one run that the other lacks, naming it; no documents at all.</exception>
    private static IEnumerable<(T Base, T Test)> Paired<T>(IEnumerable<T> baseRun, IEnumerable<T> testRun, Func<T, string> name, Func<T, string> key, string what)
    {
        var testsInOrder = testRun.ToList();
        var tests = testsInOrder.ToDictionary(key, StringComparer.Ordinal); // each key once: HarnessSamples refuses a key given twice

        int count = 0;
        foreach (var base_ in baseRun)
        {
            if (!tests.Remove(key(base_), out var test))
            {
                throw new InvalidFileException(name(base_), $"is {key(base_)[(key(base_).IndexOf(": ", StringComparison.Ordinal) + 2)..]} of the base run, which the test run lacks: the two runs must be of one task over the same documents.");
            }

            count++;
            yield return (base_, test);
        }

        if (tests.Count > 0)
        {
            var extra = testsInOrder.First(t => tests.ContainsKey(key(t)));
            throw new InvalidFileException(name(extra), $"is {key(extra)[(key(extra).IndexOf(": ", StringComparison.Ordinal) + 2)..]} of the test run, which the base run lacks: the two runs must be of one task over the same documents.");
        }

        if (count == 0)
        {
            throw new InvalidFileException(what, "holds no samples.");
        }
    }
}
