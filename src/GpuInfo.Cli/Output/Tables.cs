using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace GpuInfo.Cli.Output;

/// <summary>Human-readable tables on stdout (Spectre.Console), for runs without --json.</summary>
internal static class Tables
{
    public static IAnsiConsole Console(TextWriter writer) => AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(writer),
        Interactive = InteractionSupport.No,
    });

    public static Table KeyValue(string title, IEnumerable<(string Key, string Value)> rows)
    {
        var table = new Table().Title(Markup.Escape(title)).AddColumn("measure").AddColumn(new TableColumn("value").RightAligned());
        foreach (var (k, v) in rows)
        {
            table.AddRow(Markup.Escape(k), Markup.Escape(v));
        }

        return table;
    }

    /// <summary>A report's value as a table shows it: infinities as inf and -inf, NaN and missing values as n/a, a list of records by its length.</summary>
    public static string Value(JsonNode? node) => node switch
    {
        JsonArray { Count: > 0 } a when a[0] is JsonObject => $"{a.Count} entries (see --json)",
        JsonArray { Count: 0 } => "none",
        JsonArray a => string.Join(", ", a.Select(Value)),
        JsonValue v when v.TryGetValue(out double d) && !double.IsFinite(d) => F(d),
        JsonValue v when v.TryGetValue(out float f) && !float.IsFinite(f) => F(f),
        _ => node?.ToString() ?? "n/a",
    };

    public static string F(double value, string format = "G6") =>
        double.IsFinite(value) ? value.ToString(format, CultureInfo.InvariantCulture) : double.IsNaN(value) ? "n/a" : value > 0 ? "inf" : "-inf";
}
