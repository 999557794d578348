using System.IO.Compression;
using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;

namespace GpuInfo.Cli;

/// <summary>
/// lm-evaluation-harness's groups of multiple-choice and loglikelihood tasks (MMLU and its four categories, kobest,
/// click_lang, ...) and how each aggregates its tasks' metrics (lm_eval/api/group.py's <c>Group.aggregate</c> over its
/// leaf tasks: a metric's mean over the tasks weighted by their sizes, or not, and <c>pooled_sample_stderr</c> of their
/// stderrs). <c>HarnessGroups.tsv.gz</c> is written by <c>scripts/make_harness_aggregations.py</c> from the harness's
/// task configurations.
/// </summary>
internal static class HarnessGroups
{
    private static readonly Lazy<Group[]> All = new(Load);

    /// <summary>A group: its name, each metric it aggregates and whether by the tasks' sizes, and its leaf tasks.</summary>
    internal sealed record Group(string Name, IReadOnlyList<(string Metric, bool BySize)> Aggregations, IReadOnlyList<string> Leaves);

    /// <summary>
    /// The harness's figures of every group whose tasks are all among the run's (<paramref name="tasks"/>: each
    /// task's own figures, <see cref="LoglikelihoodReport.Tasks"/>), smallest first: its tasks and documents, each
    /// metric it aggregates ± the pooled stderr, the other run's value, and how the documents moved (the value's
    /// difference, the flips each way and McNemar's p); null where the run's tasks make up no group.
    /// </summary>
    public static JsonArray? Rows(JsonArray tasks, string compared)
    {
        var byName = new Dictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var entry in tasks.OfType<JsonObject>())
        {
            if (entry["task"] is JsonValue name && name.TryGetValue(out string? task))
            {
                byName.TryAdd(task, entry);
            }
        }

        var rows = new JsonArray();
        foreach (var group in All.Value.Where(g => g.Leaves.All(byName.ContainsKey)).OrderBy(g => g.Leaves.Count).ThenBy(g => g.Name, StringComparer.Ordinal))
        {
            JsonObject[] entries = [.. group.Leaves.Select(l => byName[l])];
            double[] sizes = [.. entries.Select(e => Number(e["documents"]) ?? Number(e["requests"]) ?? 0)];
            var row = new JsonObject { ["group"] = group.Name, ["tasks"] = entries.Length, ["documents"] = (long)sizes.Sum() };
            foreach (var (metric, bySize) in group.Aggregations)
            {
                double[] weights = bySize ? sizes : [.. sizes.Select(_ => 1.0)];
                row[metric] = Json.Number(Mean(entries, metric, weights));
                row[$"{metric}_stderr"] = Json.Number(LoglikelihoodReport.PooledSampleStderr([.. entries.Select((e, i) => (Number(e[$"{metric}_stderr"]) ?? double.NaN, sizes[i]))]));
                if (entries.All(e => e.ContainsKey($"{compared}_{metric}")))
                {
                    row[$"{compared}_{metric}"] = Json.Number(Mean(entries, $"{compared}_{metric}", weights));
                    row[$"{metric}_diff"] = Json.Number(Mean(entries, metric, weights) - Mean(entries, $"{compared}_{metric}", weights));
                }
            }

            if (entries.All(e => Number(e["right_to_wrong"]) is not null && Number(e["wrong_to_right"]) is not null))
            {
                long rightToWrong = (long)entries.Sum(e => Number(e["right_to_wrong"])!.Value), wrongToRight = (long)entries.Sum(e => Number(e["wrong_to_right"])!.Value);
                row["right_to_wrong"] = rightToWrong;
                row["wrong_to_right"] = wrongToRight;
                row["mcnemar_p"] = Json.Number(McNemar.ExactP(rightToWrong, wrongToRight));
            }

            rows.Add((JsonNode)row);
        }

        return rows.Count > 0 ? rows : null;
    }

    /// <summary>The tasks' values of a metric, averaged with the weights (the harness's aggregate_subtask_metrics); NaN where a task has none.</summary>
    private static double Mean(JsonObject[] entries, string key, double[] weights)
    {
        double sum = 0;
        for (int i = 0; i < entries.Length; i++)
        {
            sum += (Number(entries[i][key]) ?? double.NaN) * weights[i];
        }

        return sum / weights.Sum();
    }

    private static double? Number(JsonNode? node) => node is JsonValue v && v.TryGetValue(out double d) ? d : node is JsonValue w && w.TryGetValue(out long l) ? l : node is JsonValue x && x.TryGetValue(out int n) ? n : null;

    private static Group[] Load()
    {
        using var stream = typeof(HarnessGroups).Assembly.GetManifestResourceStream("HarnessGroups.tsv.gz") ?? throw new InvalidOperationException("HarnessGroups.tsv.gz is not embedded in gpuinfo.");
        using var reader = new StreamReader(new GZipStream(stream, CompressionMode.Decompress));
        var groups = new List<Group>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && line[0] != '#' && line.Split('\t') is [var name, var aggregations, var leaves])
            {
                groups.Add(new Group(name, [.. aggregations.Split(',').Select(a => a.Split(':')).Select(p => (p[0], p[1] == "size"))], leaves.Split(' ')));
            }
        }

        return [.. groups];
    }
}
