using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using GpuInfo.Formats;

namespace GpuInfo.Cli;

/// <summary>
/// Samples as lm-evaluation-harness 0.4.0 to 0.4.2 log them (<c>--log_samples</c>: <c>{model_args}_{task}.jsonl</c>),
/// read in the shape 0.4.3 on gives them: one JSON array of the samples, written by Python's <c>json.dumps(samples,
/// indent=2)</c>, each sample's <c>arguments</c> a list of its requests' argument lists ([context, continuation]),
/// its numbers JSON numbers (<c>-Infinity</c> and <c>NaN</c> as Python writes them), no <c>metrics</c> list (its
/// metrics are its keys besides the record's own) and no <c>filter</c> (a document logged under several filters, as
/// GSM8K's two are, is logged once per filter in the filters' order: its k-th occurrence is filter <c>filter-k</c>).
/// </summary>
internal static partial class HarnessSamples
{
    /// <summary>The keys of a logged sample that are not its metrics (0.4.2's record; 0.4.3 added the hashes, later ones the filter and metrics).</summary>
    private static readonly HashSet<string> RecordKeys = new(StringComparer.Ordinal) { "doc_id", "doc", "target", "arguments", "resps", "filtered_resps", "filter", "metrics", "doc_hash", "prompt_hash", "target_hash" };

    /// <summary>A samples file's logged samples, each named by its file and line: JSON lines, or lm-evaluation-harness 0.4.0-0.4.2's one array.</summary>
    private static IEnumerable<(string Name, JsonElement Line)> Objects(string path) =>
        ModelDocuments.FirstCharacter(path) == '[' ? Legacy(path) : ModelDocuments.ReadObjects([path], PythonJson.QuoteLiterals);

    private static List<(string Name, JsonElement Line)> Legacy(string path)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(PythonJson.QuoteLiterals(ModelDocuments.ReadText(path)));
        var samples = new List<(string Name, JsonObject Sample)>();
        var reader = new Utf8JsonReader(bytes);
        int line = 1;
        long counted = 0;
        try
        {
            reader.Read(); // the array, which FirstCharacter found
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                line += bytes.AsSpan((int)counted, (int)(reader.TokenStartIndex - counted)).Count((byte)'\n');
                counted = reader.TokenStartIndex;
                string name = $"{path}:{line}";
                samples.Add((name, JsonNode.Parse(ref reader) as JsonObject ?? throw new InvalidFileException(name, "is not a JSON object (lm-evaluation-harness 0.4.0-0.4.2 logs an array of sample objects).")));
            }

            if (reader.TokenType != JsonTokenType.EndArray || reader.Read())
            {
                throw new InvalidFileException(path, "holds more than one JSON array of samples (lm-evaluation-harness 0.4.0-0.4.2 logs one).");
            }
        }
        catch (JsonException e)
        {
            throw new InvalidFileException(path, $"is not one JSON array of samples, as lm-evaluation-harness 0.4.0-0.4.2 logs them (samples_TASK.jsonl of later versions hold a JSON object a line): {e.Message}");
        }

        var occurrences = samples.GroupBy(s => s.Sample["doc_id"]?.ToJsonString() ?? s.Name).Where(g => g.Count() > 1).SelectMany(g => g.Select((s, k) => (s.Sample, Filter: $"filter-{k + 1}")));
        foreach (var (sample, filter) in occurrences)
        {
            sample.TryAdd("filter", filter);
        }

        return [.. samples.Select(s => (s.Name, Modern(s.Sample)))];
    }

    /// <summary>A 0.4.0-0.4.2 sample as 0.4.3 on logs it: <c>arguments</c> {gen_args_i: {arg_j}}, and a <c>metrics</c> list.</summary>
    private static JsonElement Modern(JsonObject sample)
    {
        if (sample["arguments"] is JsonArray requests && requests.All(r => r is JsonArray))
        {
            var arguments = new JsonObject();
            foreach (var (request, i) in requests.Select((r, i) => ((JsonArray)r!, i)))
            {
                arguments[$"gen_args_{i}"] = new JsonObject(request.Select((a, j) => KeyValuePair.Create($"arg_{j}", a?.DeepClone())));
            }

            sample["arguments"] = arguments;
        }

        if (!sample.ContainsKey("metrics"))
        {
            sample["metrics"] = new JsonArray([.. sample.Select(kv => kv.Key).Where(k => !RecordKeys.Contains(k)).Select(k => (JsonNode)k)]);
        }

        return JsonSerializer.SerializeToElement(sample);
    }
}
