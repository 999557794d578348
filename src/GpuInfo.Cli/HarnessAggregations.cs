using System.Collections.Frozen;
using System.Globalization;

namespace GpuInfo.Cli;

/// <summary>
/// How lm-evaluation-harness aggregates the metrics gpuinfo reports of a task, by the task's name (a samples file's,
/// <see cref="HarnessSamples.TaskOf"/>). <c>acc</c>, <c>acc_norm</c> and <c>acc_bytes</c> are means and <c>mcc</c>
/// scikit-learn's <c>matthews_corrcoef</c> but in the few tasks whose yaml names another aggregation (tinyBenchmarks'
/// IRT estimates). A multiple-choice task's <c>f1</c>, whose samples log a (gold, prediction) pair per document, is
/// scikit-learn's binary <c>f1_score</c> (bootstrapped for its stderr) by default, but 1,146 of the harness's 1,162
/// tasks that log it name their own aggregation (afrobench's weighted f1, AraDiCE's micro, kobest's macro, SuperGLUE
/// cb's mean of three one-vs-rest f1s), none with a stderr ("N/A"). The table, <c>HarnessAggregations.tsv</c>, is
/// written by <c>scripts/make_harness_aggregations.py</c>, which runs each task's own f1 aggregation.
/// </summary>
internal static class HarnessAggregations
{
    private static readonly FrozenDictionary<(string Task, string Metric), string> Table = Load();

    /// <summary>A task's f1 aggregation: its name in a report, how to compute it (null where gpuinfo does not), and whether it is the binary f1 (two labels; the one the harness bootstraps a stderr of).</summary>
    internal sealed record F1Aggregation(string Name, Func<int[], int[], double>? Compute, bool Binary);

    /// <summary>The f1 aggregation of the task named so; the harness's default for a task it does not have.</summary>
    public static F1Aggregation F1(string? task)
    {
        if (task is null || !Table.TryGetValue((task, "f1"), out string? kind))
        {
            return new("binary (the harness's default; not one of its tasks)", (g, p) => Classification.BinaryF1(g, p), true);
        }

        return kind switch
        {
            "binary" => new("binary", (g, p) => Classification.BinaryF1(g, p), true),
            "micro" => new("micro", (g, p) => Classification.F1(g, p, F1Average.Micro), false),
            "macro" => new("macro", (g, p) => Classification.F1(g, p, F1Average.Macro), false),
            "weighted" => new("weighted", (g, p) => Classification.F1(g, p, F1Average.Weighted), false),
            _ when kind.StartsWith("labels ", StringComparison.Ordinal) && Labels(kind) is { } labels =>
                new($"mean over labels {string.Join(", ", labels)}", (g, p) => Classification.MeanF1OfLabels(g, p, labels), false),
            _ => new(Other(kind), null, false),
        };
    }

    /// <summary>The aggregation of another metric (acc, acc_norm, acc_bytes, mcc) where the task names one gpuinfo does not compute; else null.</summary>
    public static string? Unsupported(string? task, string metric) =>
        task is not null && Table.TryGetValue((task, metric), out string? kind) ? Other(kind) : null;

    private static string Other(string kind) => kind.StartsWith("other ", StringComparison.Ordinal) ? kind["other ".Length..] : kind;

    private static int[]? Labels(string kind)
    {
        var parts = kind["labels ".Length..].Split(' ');
        var labels = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out labels[i]))
            {
                return null;
            }
        }

        return labels;
    }

    private static FrozenDictionary<(string Task, string Metric), string> Load()
    {
        using var stream = typeof(HarnessAggregations).Assembly.GetManifestResourceStream("HarnessAggregations.tsv") ?? throw new InvalidOperationException("HarnessAggregations.tsv is not embedded in gpuinfo.");
        using var reader = new StreamReader(stream);
        var table = new Dictionary<(string, string), string>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && line[0] != '#' && line.Split('\t') is [var task, var metric, var kind])
            {
                table[(task, metric)] = kind;
            }
        }

        return table.ToFrozenDictionary();
    }
}
