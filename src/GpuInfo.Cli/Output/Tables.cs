using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace GpuInfo.Cli.Output;

/// <summary>Human-readable tables on stdout (Spectre.Console), for runs without --json.</summary>
internal static class Tables
{
    /// <param name="width">Columns to lay tables out in (a terminal's own by default, 80 where there is none), or null.</param>
    public static IAnsiConsole Console(TextWriter writer, int? width = null)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Interactive = InteractionSupport.No,
        });
        if (width is { } columns)
        {
            console.Profile.Width = Math.Max(columns, console.Profile.Width);
        }

        return console;
    }

    public static Table KeyValue(string title, IEnumerable<(string Key, string Value)> rows)
    {
        var table = new Table().Title(Markup.Escape(title)).AddColumn("measure").AddColumn(new TableColumn("value").RightAligned());
        foreach (var (k, v) in rows)
        {
            table.AddRow(Markup.Escape(k), Markup.Escape(v));
        }

        return table;
    }

    /// <summary>The fields a row of many keeps (a task's of several files: its figures and how they moved), matched by their last part.</summary>
    private static readonly HashSet<string> Kept = new(StringComparer.Ordinal)
    {
        "documents", "samples", "acc", "acc_norm", "harness_acc", "base_acc", "acc_diff", "right_to_wrong", "wrong_to_right", "mcnemar_p",
        "perplexity", "harness_perplexity", "base_perplexity", "test", "base", "diff",
    };

    /// <summary>
    /// Records as rows (at most <paramref name="limit"/>), their fields columns in the order they first appear, a field
    /// that is a record's record flattened (<c>exact_match,strict-match.diff</c>), numbers to 6 significant digits; of more
    /// than 8 fields, the first and those a reader compares (<see cref="Kept"/>).
    /// </summary>
    /// <returns>The table, and the width it takes unwrapped.</returns>
    public static (Table Table, int Width) Records(string title, IReadOnlyList<JsonObject> records, int limit = 500)
    {
        static IEnumerable<(string Key, JsonNode? Value)> Fields(JsonObject record) => record.SelectMany(kv => kv.Value is JsonObject inner
            ? inner.Where(i => i.Value is null or JsonValue).Select(i => ($"{kv.Key}.{i.Key}", i.Value))
            : kv.Value is null or JsonValue ? [(kv.Key, kv.Value)] : []);

        var rows = records.Take(limit).Select(r => Fields(r).ToDictionary(f => f.Key, f => f.Value)).ToArray();
        string[] columns = [.. records.Take(limit).SelectMany(r => Fields(r).Select(f => f.Key)).Distinct()];
        if (columns.Length > 8)
        {
            columns = [columns[0], .. columns.Skip(1).Where(c => Kept.Contains(c[(c.LastIndexOf('.') + 1)..]))];
        }

        var table = new Table().Title(Markup.Escape(records.Count > limit ? $"{title} (the first {limit} of {records.Count}: see --json)" : title));
        foreach (string column in columns)
        {
            table.AddColumn(new TableColumn(Markup.Escape(column)) { Alignment = rows.Any(r => r.GetValueOrDefault(column) is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number) ? Justify.Right : Justify.Left });
        }

        string[][] cells = [.. rows.Select(row => columns.Select(c => !row.TryGetValue(c, out var value) ? "" : value is JsonValue v && v.TryGetValue(out double d) ? F(d) : Value(value)).ToArray())];
        foreach (var row in cells)
        {
            table.AddRow([.. row.Select(Markup.Escape)]);
        }

        int width = 1 + columns.Select((c, i) => 3 + cells.Select(r => r[i].Length).Append(c.Length).Max()).Sum();
        return (table, width);
    }

    /// <summary>A report's value as a table shows it: infinities as inf and -inf, NaN and missing values as n/a, a list of records by its length.</summary>
    public static string Value(JsonNode? node) => node switch
    {
        JsonArray { Count: > 0 } a when a[0] is JsonObject => $"{a.Count} entries (the table below)",
        JsonArray { Count: 0 } => "none",
        JsonArray a => string.Join(", ", a.Select(Value)),
        JsonValue v when v.TryGetValue(out double d) && !double.IsFinite(d) => F(d),
        JsonValue v when v.TryGetValue(out float f) && !float.IsFinite(f) => F(f),
        _ => node?.ToString() ?? "n/a",
    };

    public static string F(double value, string format = "G6") =>
        double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : double.IsNaN(value) ? "n/a" : value > 0 ? "inf" : "-inf";
}
