using System.Text.Json.Nodes;
using GpuInfo.Models;

namespace GpuInfo.Cli.Output;

/// <summary>
/// The report and per-document lines of a loglikelihood run's documents (<see cref="ScoredDocument"/>), a whole run's
/// or its shards' merged (<see cref="LoglikelihoodPartial"/>): lm-evaluation-harness's figures, and where the documents
/// hold another run's scores of the same requests, that run's figures (named by <c>compared</c>: "harness" for its
/// samples, "base" for a base model) and how far the two agree.
/// </summary>
internal static class LoglikelihoodReport
{
    /// <summary>
    /// Multiple-choice documents: <c>documents</c>, <c>requests</c>, <c>acc</c>, <c>acc_norm</c> and their <c>mean_stderr</c>s
    /// (<see cref="MultipleChoiceDocument.Predict"/>; documents with labels of their true choices, truthfulqa_mc2's, <c>acc</c>
    /// alone, the mean probability mass on them: <see cref="MultipleChoiceDocument.TrueMass"/>); else each request a document (LAMBADA's): <c>requests</c>, <c>acc</c>
    /// (the share of greedy requests), <c>acc_stderr</c>, <c>perplexity</c> (exp of minus the mean log-likelihood), its
    /// <c>perplexity_stderr</c> (the harness's bootstrap over <paramref name="bootstrapIterations"/> resamples; null for
    /// none) and <c>mean_loglikelihood</c>. Then the other run's figures, where there is one.
    /// </summary>
    /// <param name="metrics">
    /// The task's metrics as the harness names them (its samples' <c>metrics</c>): <c>acc_bytes</c>, <c>f1</c> and
    /// <c>mcc</c> of multiple-choice documents are reported where named (<see cref="AddNamedMetrics"/>), and any other
    /// named metric that is not reported here is listed in <c>metrics_not_reported</c>.
    /// </param>
    /// <param name="tasks">
    /// The task of each input file (a samples file's, <see cref="HarnessSamples.TaskOf"/>), indexed by
    /// <see cref="ScoredDocument.File"/>, for the harness's aggregations of its metrics (<see cref="HarnessAggregations"/>:
    /// an f1's, and a metric aggregated otherwise than gpuinfo does, which is null with <c>METRIC_not_computed</c>); or null.
    /// </param>
    public static JsonObject Report(IReadOnlyList<ScoredDocument> documents, string compared, int bootstrapIterations, IReadOnlyCollection<string>? metrics = null, IReadOnlyList<string>? tasks = null)
    {
        string[] involved = tasks is null ? [] : [.. documents.Select(d => d.File).Distinct().Where(f => f < tasks.Count).Select(f => tasks[f])];
        string? task = involved.Length == 1 ? involved[0] : null;
        var requests = documents.SelectMany(d => d.Requests).ToArray();
        JsonObject report;
        if (documents[0].Choices is { } first)
        {
            var acc = Accuracy(documents, Own);
            report = new JsonObject
            {
                ["documents"] = documents.Count,
                ["requests"] = requests.Length,
                ["acc"] = Json.Number(acc.Average()),
                ["acc_stderr"] = Json.Number(HarnessStderr(acc, documents.Select(d => d.File))),
            };
            if (first.Labels is null)
            {
                var accNorm = Correct(documents, d => Predict(d, Own(d)).NormalizedPrediction);
                report["acc_norm"] = Json.Number(accNorm.Average());
                report["acc_norm_stderr"] = Json.Number(HarnessStderr(accNorm, documents.Select(d => d.File)));
            }
        }
        else
        {
            var greedy = requests.Select(r => r.IsGreedy ? 1.0 : 0.0).ToArray();
            double mean = requests.Sum(r => r.LogLikelihood) / requests.Length;
            report = new JsonObject
            {
                ["requests"] = requests.Length,
                ["acc"] = Json.Number(greedy.Average()),
                ["acc_stderr"] = Json.Number(HarnessStderr(greedy, documents.Select(d => d.File))),
                ["perplexity"] = Json.Number(Math.Exp(-mean)),
                ["perplexity_stderr"] = PerplexityStderr([.. requests.Select(r => r.LogLikelihood)], bootstrapIterations),
                ["mean_loglikelihood"] = Json.Number(mean),
            };
        }

        metrics ??= [];
        if (documents[0].Choices is { Labels: null })
        {
            AddNamedMetrics(report, documents, metrics, Own, "", bootstrapIterations, task);
        }

        if (documents[0].Other is not null)
        {
            AddComparison(report, documents, compared, bootstrapIterations);
            if (documents[0].Choices is { Labels: null })
            {
                AddNamedMetrics(report, documents, metrics, Others, $"{compared}_", 0, task);
            }
        }

        foreach (string metric in (string[])["acc", "acc_norm", "acc_bytes", "mcc"])
        {
            if (report.ContainsKey(metric) && involved.Select(t => HarnessAggregations.Unsupported(t, metric)).FirstOrDefault(a => a is not null) is { } aggregation)
            {
                foreach (string key in (string[])[metric, $"{metric}_stderr", $"{compared}_{metric}"])
                {
                    if (report.ContainsKey(key))
                    {
                        report[key] = null;
                    }
                }

                report[$"{metric}_not_computed"] = $"the task aggregates {metric} with {aggregation}, which gpuinfo does not compute (each document's {metric} is in the per-document lines, and the paired differences are of them)";
            }
        }

        string[] reported = documents[0].Choices is null ? ["acc", "perplexity"] : documents[0].Choices!.Labels is null ? ["acc", "acc_norm", "acc_bytes", "f1", "mcc"] : ["acc"];
        if (metrics.Where(m => !reported.Contains(m)).ToArray() is { Length: > 0 } other)
        {
            report["metrics_not_reported"] = new JsonArray([.. other.Select(m => (JsonNode)m)]);
        }

        return report;
    }

    /// <summary>
    /// The task's own metrics of multiple-choice documents, where <paramref name="metrics"/> names them, from one run's
    /// log-likelihoods, each key after <paramref name="prefix"/>: <c>acc_bytes</c> (the prediction per UTF-8 byte of the
    /// choice, <see cref="MultipleChoiceDocument.PredictBytes"/>) ± its <c>mean_stderr</c>; <c>f1</c> (by the task's
    /// own aggregation, <see cref="HarnessAggregations"/>, named in <c>f1_aggregation</c>) and <c>mcc</c> (scikit-learn's Matthews
    /// correlation) of the golds and predictions, the binary f1 and mcc ± the harness's bootstrap of them over
    /// <paramref name="iterations"/> resamples (null for none; the harness has no stderr of another f1). An f1 the harness
    /// would not give (a binary f1 of more than two choices), one gpuinfo does not compute, and an f1 or mcc of several
    /// tasks' documents (the harness computes each task's) are null, and <c>f1_not_computed</c>/<c>mcc_not_computed</c>
    /// say why.
    /// </summary>
    private static void AddNamedMetrics(JsonObject report, IReadOnlyList<ScoredDocument> documents, IReadOnlyCollection<string> metrics, Func<ScoredDocument, IEnumerable<double>> loglikelihoods, string prefix, int iterations, string? task)
    {
        if (metrics.Contains("acc_bytes"))
        {
            var accBytes = Correct(documents, d => d.Choices!.PredictBytes([.. loglikelihoods(d)]));
            report[$"{prefix}acc_bytes"] = Json.Number(accBytes.Average());
            if (prefix.Length == 0)
            {
                report["acc_bytes_stderr"] = Json.Number(HarnessStderr(accBytes, documents.Select(d => d.File)));
            }
        }

        if (!metrics.Contains("f1") && !metrics.Contains("mcc"))
        {
            return;
        }

        int[] golds = [.. documents.Select(d => d.Choices!.Gold)];
        int[] predictions = [.. documents.Select(d => Predict(d, loglikelihoods(d)).Prediction)];
        int classes = documents.Max(d => d.Choices!.Choices.Count);
        double[] pairs = [.. golds.Zip(predictions, (g, p) => (double)((g * classes) + p))]; // resampled together, as the harness's (gold, prediction) tuples
        bool severalTasks = documents.Select(d => d.File).Distinct().Skip(1).Any();
        var f1 = HarnessAggregations.F1(task);
        if (prefix.Length == 0 && metrics.Contains("f1") && !severalTasks)
        {
            report["f1_aggregation"] = f1.Name;
        }

        foreach (string metric in (string[])["f1", "mcc"])
        {
            if (!metrics.Contains(metric))
            {
                continue;
            }

            var statistic = metric == "mcc" ? (g, p) => Classification.MatthewsCorrelation(g, p) : f1.Compute;
            string? notComputed = severalTasks ? "over several tasks: the harness computes each task's (see tasks); a group's, where its yaml names one, is its own aggregation of them"
                : statistic is null ? $"the task aggregates f1 with {f1.Name}, which gpuinfo does not compute"
                : metric == "f1" && f1.Binary && classes > 2 ? $"{classes} choices: the harness's default f1 aggregation is scikit-learn's binary f1_score, which refuses them"
                : null;
            if (notComputed is not null)
            {
                report[$"{prefix}{metric}"] = null;
                report[$"{metric}_not_computed"] = notComputed;
                continue;
            }

            report[$"{prefix}{metric}"] = Json.Number(statistic!(golds, predictions));
            if (prefix.Length == 0)
            {
                report[$"{metric}_stderr"] = iterations == 0 || (metric == "f1" && !f1.Binary) ? null : Json.Number(HarnessBootstrap.Stderr(pairs, sample =>
                {
                    var (g, p) = (new int[sample.Length], new int[sample.Length]);
                    for (int i = 0; i < sample.Length; i++)
                    {
                        (g[i], p[i]) = Math.DivRem((int)sample[i], classes);
                    }

                    return statistic!(g, p);
                }, iterations));
            }
        }
    }

    /// <summary>
    /// Where the documents come from several files (<see cref="ScoredDocument.File"/>: each a task, as MMLU's subjects
    /// are), each file's own figures (<see cref="Report"/> of its documents, named by <paramref name="tasks"/>), the
    /// bootstrap left to the whole; null for one file.
    /// </summary>
    /// <param name="harnessTasks">Whether the files are the harness's tasks (samples files), aggregated as it aggregates them (<see cref="Report"/>'s tasks).</param>
    public static JsonArray? Tasks(IReadOnlyList<ScoredDocument> documents, IReadOnlyList<string> tasks, string compared, IReadOnlyCollection<string> metrics, bool harnessTasks = true)
    {
        if (tasks.Count < 2)
        {
            return null;
        }

        return [.. tasks.Select((task, f) =>
        {
            ScoredDocument[] own = [.. documents.Where(d => d.File == f)];
            var entry = new JsonObject { ["task"] = task };
            var report = own.Length > 0 ? Report(own, compared, 0, metrics, harnessTasks ? tasks : null) : new JsonObject { ["documents"] = 0 };
            foreach (var (key, value) in report.Where(kv => !kv.Key.EndsWith("perplexity_stderr", StringComparison.Ordinal) && kv.Key is not ("f1_stderr" or "mcc_stderr" or "metrics_not_reported")))
            {
                entry[key] = value?.DeepClone();
            }

            return (JsonNode)entry;
        })];
    }

    /// <summary>The requests' tokens: <c>continuation_tokens</c>, <c>context_tokens</c> (as the model saw them) and <c>truncated</c> (requests whose context was cut).</summary>
    public static void AddTokens(JsonObject report, IReadOnlyList<ScoredDocument> documents)
    {
        var requests = documents.SelectMany(d => d.Requests).ToArray();
        report["continuation_tokens"] = requests.Sum(r => r.ContinuationTokens);
        report["context_tokens"] = requests.Sum(r => (long)r.ContextTokens);
        report["truncated"] = requests.Count(r => r.Truncated);
    }

    /// <summary>One JSON line per document, numbered from <paramref name="firstDocument"/>: its request's score, or a multiple-choice document's gold, predictions and each choice's score; the other run's beside them.</summary>
    public static IEnumerable<JsonObject> Lines(IReadOnlyList<ScoredDocument> documents, int firstDocument, string compared) => documents.Select((d, i) =>
    {
        JsonObject line;
        if (d.Choices is { } choices)
        {
            var (prediction, normalized) = Predict(d, Own(d));
            line = new JsonObject
            {
                ["document"] = firstDocument + i,
                ["name"] = d.Name,
            };
            if (choices.Labels is { } labels)
            {
                line["labels"] = new JsonArray([.. labels.Select(l => (JsonNode)(l ? 1 : 0))]);
                line["prediction"] = prediction;
                line["acc"] = Json.Number(choices.TrueMass([.. Own(d)]));
            }
            else
            {
                line["gold"] = choices.Gold;
                line["prediction"] = prediction;
                line["prediction_norm"] = normalized;
                line["acc"] = prediction == choices.Gold ? 1 : 0;
                line["acc_norm"] = normalized == choices.Gold ? 1 : 0;
            }

            line["loglikelihoods"] = new JsonArray([.. d.Requests.Select(r => Json.Number(r.LogLikelihood))]);
            line["is_greedy"] = new JsonArray([.. d.Requests.Select(r => (JsonNode)r.IsGreedy)]);
            line["continuation_tokens"] = new JsonArray([.. d.Requests.Select(r => (JsonNode)r.ContinuationTokens)]);
            line["truncated"] = d.Requests.Count(r => r.Truncated);
            if (d.Other is { } other)
            {
                line[$"{compared}_loglikelihoods"] = new JsonArray([.. other.Select(h => Json.Number(h.LogLikelihood))]);
                line[$"{compared}_is_greedy"] = new JsonArray([.. other.Select(h => (JsonNode)h.IsGreedy)]);
            }
        }
        else
        {
            var r = d.Requests[0];
            line = new JsonObject
            {
                ["document"] = firstDocument + i,
                ["name"] = d.Name,
                ["loglikelihood"] = Json.Number(r.LogLikelihood),
                ["is_greedy"] = r.IsGreedy,
                ["continuation_tokens"] = r.ContinuationTokens,
                ["context_tokens"] = r.ContextTokens,
                ["truncated"] = r.Truncated,
            };
            if (d.Other is { } other)
            {
                line[$"{compared}_loglikelihood"] = Json.Number(other[0].LogLikelihood);
                line[$"{compared}_is_greedy"] = other[0].IsGreedy;
            }
        }

        return line;
    });

    /// <summary>lm-evaluation-harness's bootstrap <c>perplexity_stderr</c> of per-document log-likelihoods (<see cref="HarnessBootstrap"/>); null without resamples or with one document.</summary>
    public static JsonNode? PerplexityStderr(IReadOnlyList<double> logLikelihoods, int iterations) =>
        iterations == 0 ? null : Json.Number(HarnessBootstrap.PerplexityStderr(logLikelihoods, iterations));

    /// <summary>lm-evaluation-harness's <c>mean_stderr</c>: the sample standard deviation (n − 1) over √n; null for one value.</summary>
    public static double MeanStderr(IReadOnlyList<double> values)
    {
        int n = values.Count;
        if (n < 2)
        {
            return double.NaN;
        }

        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (n - 1) / n);
    }

    /// <summary>
    /// lm-evaluation-harness's standard error of a mean of values, each from one of the input <paramref name="files"/>
    /// (a document's, in order): its <c>mean_stderr</c> where they come from one file; from several (a group's tasks, as MMLU's subjects are), its
    /// group's: <c>pooled_sample_stderr</c> of each file's <c>mean_stderr</c> weighted by its documents, over the leaf
    /// tasks (<c>Group.aggregate</c> in lm_eval/api/group.py), which the group's size-weighted <c>acc</c> comes with.
    /// NaN (the harness's "N/A") where a file has one document.
    /// </summary>
    internal static double HarnessStderr(IReadOnlyList<double> values, IEnumerable<int> files)
    {
        var groups = files.Zip(values).GroupBy(v => v.First).Select(g => g.Select(v => v.Second).ToArray()).ToArray();
        if (groups.Length < 2)
        {
            return MeanStderr(values);
        }

        return PooledSampleStderr([.. groups.Select(f => (MeanStderr(f), (double)f.Length))]);
    }

    /// <summary>
    /// lm-evaluation-harness's <c>pooled_sample_stderr</c> of tasks' stderrs and sizes (lm_eval/api/metrics.py), its
    /// formula as written, √(Σ (n − 1) s² n / (Σ n − k) / Σ n), so that its rounding is the same; NaN where a stderr is.
    /// </summary>
    internal static double PooledSampleStderr(IReadOnlyList<(double Stderr, double Size)> tasks)
    {
        double total = tasks.Sum(t => t.Size);
        double pooled = tasks.Sum(t => (t.Size - 1) * Math.Pow(t.Stderr, 2) * t.Size) / (total - tasks.Count);
        return Math.Sqrt(pooled / total);
    }

    /// <summary>The other run's figures, computed from its log-likelihoods as this run's are from its own, and how far the two runs' log-likelihoods, greedy tokens and predictions agree.</summary>
    private static void AddComparison(JsonObject report, IReadOnlyList<ScoredDocument> documents, string name, int bootstrapIterations)
    {
        var ours = documents.SelectMany(d => d.Requests).ToArray();
        var theirs = documents.SelectMany(d => d.Other!).ToArray();
        var differences = ours.Zip(theirs, (a, b) => Math.Abs(a.LogLikelihood - b.LogLikelihood)).ToArray();
        if (documents[0].Choices is { } first)
        {
            var mine = documents.Select(d => Predict(d, Own(d))).ToArray();
            var other = documents.Select(d => Predict(d, Others(d))).ToArray();
            report[$"{name}_acc"] = Json.Number(Accuracy(documents, Others).Average());
            if (first.Labels is null)
            {
                report[$"{name}_acc_norm"] = Json.Number(Correct(documents, d => Predict(d, Others(d)).NormalizedPrediction).Average());
            }

            report["same_prediction"] = Json.Number(mine.Zip(other).Average(p => p.First.Prediction == p.Second.Prediction ? 1.0 : 0.0));
            if (first.Labels is null)
            {
                report["same_prediction_norm"] = Json.Number(mine.Zip(other).Average(p => p.First.NormalizedPrediction == p.Second.NormalizedPrediction ? 1.0 : 0.0));
            }
        }
        else
        {
            report[$"{name}_acc"] = Json.Number(theirs.Average(h => h.IsGreedy ? 1.0 : 0.0));
            report[$"{name}_perplexity"] = Json.Number(Math.Exp(-theirs.Average(h => h.LogLikelihood)));
            report[$"{name}_perplexity_stderr"] = PerplexityStderr([.. theirs.Select(h => h.LogLikelihood)], bootstrapIterations);
        }

        AddPairedDifference(report, documents);
        report["same_is_greedy"] = Json.Number(ours.Zip(theirs).Average(p => p.First.IsGreedy == p.Second.IsGreedy ? 1.0 : 0.0));
        report["loglikelihood_mean_abs_diff"] = Json.Number(differences.Average());
        report["loglikelihood_max_abs_diff"] = Json.Number(differences.Max());
    }

    /// <summary>
    /// This run's <c>acc</c> less the other run's, document by document (the same documents: a paired difference):
    /// <c>acc_diff</c> and its standard error <c>acc_diff_stderr</c> (the differences' sample standard deviation over √n),
    /// likewise <c>acc_norm_diff</c>; where each document is right or wrong, the documents only the other run gets right
    /// (<c>right_to_wrong</c>) and only this one (<c>wrong_to_right</c>), and McNemar's exact two-sided p-value of them
    /// (<c>mcnemar_p</c>): whether the two runs' accuracies differ by more than chance.
    /// </summary>
    private static void AddPairedDifference(JsonObject report, IReadOnlyList<ScoredDocument> documents)
    {
        var choices = documents[0].Choices;
        double[] ours = choices is null ? [.. documents.Select(d => d.Requests[0].IsGreedy ? 1.0 : 0.0)] : Accuracy(documents, Own);
        double[] theirs = choices is null ? [.. documents.Select(d => d.Other![0].IsGreedy ? 1.0 : 0.0)] : Accuracy(documents, Others);
        var differences = ours.Zip(theirs, (a, b) => a - b).ToArray();
        AddDifference(report, "acc", differences);
        if (choices is { Labels: null })
        {
            AddDifference(report, "acc_norm", [.. Correct(documents, d => Predict(d, Own(d)).NormalizedPrediction).Zip(Correct(documents, d => Predict(d, Others(d)).NormalizedPrediction), (a, b) => a - b)]);
        }

        if (choices?.Labels is null)
        {
            AddFlips(report, differences);
        }
    }

    /// <summary><c>{name}_diff</c>, the mean of paired per-document differences, and <c>{name}_diff_stderr</c>, their sample standard deviation over √n.</summary>
    internal static void AddDifference(JsonObject report, string name, double[] differences)
    {
        report[$"{name}_diff"] = Json.Number(differences.Average());
        report[$"{name}_diff_stderr"] = Json.Number(MeanStderr(differences));
    }

    /// <summary>Of paired right (1) or wrong (0) differences: the documents only the other run gets right (<c>right_to_wrong</c>), only this one (<c>wrong_to_right</c>), and McNemar's exact p of them.</summary>
    internal static void AddFlips(JsonObject report, double[] differences)
    {
        long rightToWrong = differences.LongCount(d => d < 0), wrongToRight = differences.LongCount(d => d > 0);
        report["right_to_wrong"] = rightToWrong;
        report["wrong_to_right"] = wrongToRight;
        report["mcnemar_p"] = Json.Number(McNemar.ExactP(rightToWrong, wrongToRight));
    }

    private static IEnumerable<double> Own(ScoredDocument document) => document.Requests.Select(r => r.LogLikelihood);

    private static IEnumerable<double> Others(ScoredDocument document) => document.Other!.Select(r => r.LogLikelihood);

    private static (int Prediction, int NormalizedPrediction) Predict(ScoredDocument document, IEnumerable<double> loglikelihoods) =>
        document.Choices!.Predict([.. loglikelihoods]);

    /// <summary>Each document's <c>acc</c> under one run's log-likelihoods: 1 or 0 as its prediction is its gold, or with labels its probability mass on the true choices.</summary>
    private static double[] Accuracy(IReadOnlyList<ScoredDocument> documents, Func<ScoredDocument, IEnumerable<double>> loglikelihoods) =>
        [.. documents.Select(d => d.Choices!.Labels is null ? (Predict(d, loglikelihoods(d)).Prediction == d.Choices.Gold ? 1.0 : 0.0) : d.Choices.TrueMass([.. loglikelihoods(d)]))];

    private static double[] Correct(IReadOnlyList<ScoredDocument> documents, Func<ScoredDocument, int> prediction) =>
        [.. documents.Select(d => prediction(d) == d.Choices!.Gold ? 1.0 : 0.0)];
}
