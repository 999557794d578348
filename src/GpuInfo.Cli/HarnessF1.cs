using System.Collections.Frozen;
using System.Globalization;

namespace GpuInfo.Cli;

/// <summary>
/// How lm-evaluation-harness aggregates a multiple-choice task's <c>f1</c>, whose samples log a (gold, prediction) pair
/// per document: its default, scikit-learn's binary <c>f1_score</c> (bootstrapped for its stderr), unless the task's
/// yaml names another aggregation, as 1,146 of its 1,162 such tasks do (afrobench's weighted f1, AraDiCE's micro,
/// kobest's macro, SuperGLUE cb's mean of three one-vs-rest f1s), none of them with a stderr ("N/A"). The table,
/// <c>HarnessF1Tasks.tsv</c>, is written by <c>scripts/make_harness_f1.py</c>, which runs each task's own aggregation.
/// </summary>
internal static class HarnessF1
{
    private static readonly FrozenDictionary<string, string> Tasks = Load();

    /// <summary>A task's f1 aggregation: its name in a report, how to compute it (null where gpuinfo does not), and whether it is the binary f1 (two labels; the one the harness bootstraps a stderr of).</summary>
    internal sealed record Aggregation(string Name, Func<int[], int[], double>? Compute, bool Binary);

    /// <summary>The aggregation of the task named so (a samples file's task, <see cref="HarnessSamples.TaskOf"/>); the harness's default for a task it does not have.</summary>
    public static Aggregation For(string? task)
    {
        if (task is null || !Tasks.TryGetValue(task, out string? kind))
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
            _ => new(kind.StartsWith("other ", StringComparison.Ordinal) ? kind["other ".Length..] : kind, null, false),
        };
    }

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

    private static FrozenDictionary<string, string> Load()
    {
        using var stream = typeof(HarnessF1).Assembly.GetManifestResourceStream("HarnessF1Tasks.tsv") ?? throw new InvalidOperationException("HarnessF1Tasks.tsv is not embedded in gpuinfo.");
        using var reader = new StreamReader(stream);
        var tasks = new Dictionary<string, string>(StringComparer.Ordinal);
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0 && line[0] != '#' && line.Split('\t') is [var task, var kind])
            {
                tasks[task] = kind;
            }
        }

        return tasks.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
