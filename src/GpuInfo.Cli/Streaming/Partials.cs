using System.Text.Json;
using System.Text.Json.Nodes;

namespace GpuInfo.Cli.Streaming;

/// <summary>
/// Mergeable totals of one shard as a JSON file (<c>--partial</c>), and reading them back for
/// <c>gpuinfo merge</c>. Sums merge exactly; compare's percentiles merge through a log-histogram
/// sketch (within 0.5% relative).
/// </summary>
internal static class Partials
{
    public const int Version = 1;

    public static JsonObject Eval(PerplexityAccumulator t, long ignored, Shard shard, string source) => new()
    {
        ["gpuinfo_partial"] = Version,
        ["kind"] = "eval",
        ["source"] = source,
        ["shard"] = shard.ToString(),
        ["tokens"] = t.Tokens,
        ["ignored"] = ignored,
        ["nll_sum"] = t.NllSum,
        ["weight_sum"] = t.WeightSum,
        ["entropy_sum"] = t.EntropySum,
        ["top1_hits"] = t.Top1Hits,
    };

    public static JsonObject Compare(ComparisonAccumulator t, Shard shard, string source) => new()
    {
        ["gpuinfo_partial"] = Version,
        ["kind"] = "compare",
        ["source"] = source,
        ["shard"] = shard.ToString(),
        ["tokens"] = t.Tokens,
        ["kl_sum"] = Finite(t.KlSum),
        ["js_sum"] = t.JsSum,
        ["same_top1"] = t.SameTop1,
        ["has_targets"] = t.HasTargets,
        ["nll_sum_base"] = Finite(t.NllSumBase),
        ["nll_sum_test"] = Finite(t.NllSumTest),
        ["delta_p_sum"] = t.DeltaPSum,
        ["delta_p_sq_sum"] = t.DeltaPSquaredSum,
        ["kl_sketch"] = new JsonObject
        {
            ["below"] = t.KlSketch.Below,
            ["infinite"] = t.KlSketch.Infinite,
            ["min"] = Finite(t.KlSketch.Min),
            ["max"] = Finite(t.KlSketch.Max),
            ["bins"] = new JsonObject(t.KlSketch.Bins().Select(b => KeyValuePair.Create(b.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), (JsonNode?)b.Count))),
        },
    };

    public static void Write(string path, JsonObject partial)
    {
        try
        {
            File.WriteAllText(path, partial.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"{path}: cannot write: {e.Message}");
        }
    }

    /// <summary>Reads one partial file; any malformation is a data error naming the file.</summary>
    public static (string Kind, JsonObject Body) Read(string path)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw CliException.BadData($"{path}: file not found.");
        }
        catch (JsonException e)
        {
            throw CliException.BadData($"{path}: not valid JSON ({e.Message.Split('\n')[0]}).");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.BadData($"{path}: cannot read: {e.Message}");
        }

        if (node is not JsonObject obj || obj["gpuinfo_partial"]?.GetValueKind() != JsonValueKind.Number
            || obj["kind"]?.GetValueKind() != JsonValueKind.String)
        {
            throw CliException.BadData($"{path}: not a gpuinfo partial (written by 'eval --partial' or 'compare --partial').");
        }

        if (Get<int>(obj, "gpuinfo_partial", path) != Version)
        {
            throw CliException.BadData($"{path}: partial format version {obj["gpuinfo_partial"]} is not {Version}.");
        }

        string kind = obj["kind"]!.GetValue<string>();
        if (kind is not ("eval" or "compare"))
        {
            throw CliException.BadData($"{path}: unknown partial kind '{kind}'.");
        }

        return (kind, obj);
    }

    public static (PerplexityAccumulator Totals, long Ignored) ReadEval(JsonObject o, string path)
    {
        var t = new PerplexityAccumulator();
        long tokens = Get<long>(o, "tokens", path), ignored = Get<long>(o, "ignored", path), hits = Get<long>(o, "top1_hits", path);
        if (tokens < 0 || ignored < 0 || hits < 0 || hits > tokens)
        {
            throw CliException.BadData($"{path}: counts are inconsistent (tokens {tokens}, ignored {ignored}, top1_hits {hits}).");
        }

        t.Add(tokens, ignored, Get<double>(o, "nll_sum", path), Get<double>(o, "weight_sum", path), Get<double>(o, "entropy_sum", path), hits);
        return (t, ignored);
    }

    public static ComparisonAccumulator ReadCompare(JsonObject o, string path)
    {
        if (o["kl_sketch"] is not JsonObject sketch || sketch["bins"] is not JsonObject bins)
        {
            throw CliException.BadData($"{path}: 'kl_sketch' with 'bins' is missing.");
        }

        try
        {
            var histogram = LogHistogram.Restore(
                Get<long>(sketch, "below", path), Get<long>(sketch, "infinite", path),
                GetOrInfinity(sketch, "min", path, double.NegativeInfinity), GetOrInfinity(sketch, "max", path, double.PositiveInfinity),
                bins.Select(b => (int.TryParse(b.Key, out int i) ? i : -1, b.Value?.GetValueKind() == JsonValueKind.Number ? b.Value.GetValue<long>() : -1)));
            return ComparisonAccumulator.Restore(
                Get<long>(o, "tokens", path), GetOrInfinity(o, "kl_sum", path, double.PositiveInfinity), Get<double>(o, "js_sum", path),
                Get<long>(o, "same_top1", path), Get<bool>(o, "has_targets", path),
                GetOrInfinity(o, "nll_sum_base", path, double.PositiveInfinity), GetOrInfinity(o, "nll_sum_test", path, double.PositiveInfinity),
                Get<double>(o, "delta_p_sum", path), Get<double>(o, "delta_p_sq_sum", path), histogram);
        }
        catch (ArgumentException e)
        {
            throw CliException.BadData($"{path}: {e.Message}");
        }
    }

    private static JsonNode? Finite(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    private static double GetOrInfinity(JsonObject o, string name, string path, double infinity) =>
        o.TryGetPropertyValue(name, out var v) && v is null ? infinity : Get<double>(o, name, path);

    private static T Get<T>(JsonObject o, string name, string path)
    {
        var node = o[name];
        try
        {
            return node is null ? throw new FormatException() : node.GetValue<T>();
        }
        catch (Exception e) when (e is FormatException or InvalidOperationException)
        {
            throw CliException.BadData($"{path}: field '{name}' is missing or not a {typeof(T).Name.ToLowerInvariant()}.");
        }
    }
}
