using System.Text.Json;

namespace PackCheck;

/// <summary>The installed tool's <c>gpuinfo demo --json</c>: one JSON object with a sane evaluation.</summary>
internal static class DemoCheck
{
    public static string Run(string path)
    {
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new CheckFailedException($"demo: stdout of `gpuinfo demo --json` is not JSON ({e.Message})");
        }

        var eval = Member(root, "evaluation");
        long tokens = Member(eval, "tokens").GetInt64();
        double perplexity = Member(eval, "perplexity").GetDouble();
        bool merged = Member(eval, "4_shards_merged_equal_one_run").GetBoolean();
        string device = Member(Member(root, "device"), "kind").GetString() ?? "";
        if (tokens <= 0 || !double.IsFinite(perplexity) || perplexity < 1 || !merged)
        {
            throw new CheckFailedException(
                $"demo: implausible evaluation (tokens {tokens}, perplexity {perplexity}, shards merged equal one run: {merged})");
        }

        return $"demo: {tokens} tokens, perplexity {perplexity:F3}, 4 merged shards equal one run, on {device}";
    }

    private static JsonElement Member(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v)
            ? v
            : throw new CheckFailedException($"demo: the JSON has no \"{name}\"");
}
