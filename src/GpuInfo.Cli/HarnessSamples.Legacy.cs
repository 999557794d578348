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

    /// <summary>
    /// The samples of a 0.4.0-0.4.2 file, read a sample at a time (<see cref="Elements"/>) in two passes: the first
    /// counts each <c>doc_id</c>, so that a document logged under several filters is named by its filters from the first.
    /// </summary>
    private static IEnumerable<(string Name, JsonElement Line)> Legacy(string path)
    {
        var occurrences = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (name, element) in Elements(path))
        {
            string id = DocId(name, element);
            occurrences[id] = occurrences.GetValueOrDefault(id) + 1;
        }

        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var written = new System.Buffers.ArrayBufferWriter<byte>();
        foreach (var (name, element) in Elements(path))
        {
            JsonElement sample;
            try
            {
                using var parsed = JsonDocument.Parse(PythonJson.QuoteLiterals(element));
                sample = parsed.RootElement.ValueKind == JsonValueKind.Object ? parsed.RootElement.Clone() : throw new InvalidFileException(name, "is not a JSON object.");
            }
            catch (JsonException e)
            {
                throw new InvalidFileException(name, $"is not JSON: {e.Message}");
            }

            string id = DocId(name, element);
            string? filter = null;
            if (occurrences[id] > 1)
            {
                seen[id] = seen.GetValueOrDefault(id) + 1;
                filter = $"filter-{seen[id]}";
            }

            written.ResetWrittenCount();
            using (var writer = new Utf8JsonWriter(written))
            {
                Modern(sample, filter, writer);
            }

            using var modern = JsonDocument.Parse(written.WrittenMemory);
            yield return (name, modern.RootElement.Clone());
        }
    }

    /// <summary>A sample's <c>doc_id</c> as written (json.dumps writes it first), else the whole sample's JSON's, else its name.</summary>
    private static string DocId(string name, string element)
    {
        var first = DocIdFirst().Match(element);
        if (first.Success)
        {
            return first.Groups[1].Value;
        }

        try
        {
            return JsonNode.Parse(PythonJson.QuoteLiterals(element))?["doc_id"]?.ToJsonString() ?? name;
        }
        catch (JsonException)
        {
            return name; // the second pass names what is wrong
        }
    }

    /// <summary>The characters that matter in a string: its end, an escape, and a line break (not JSON there: named when the sample is parsed), counted.</summary>
    private static readonly System.Buffers.SearchValues<char> StringStops = System.Buffers.SearchValues.Create("\"\\\n");

    /// <summary>The characters that matter between a sample's strings: nesting, a string's start, a line break.</summary>
    private static readonly System.Buffers.SearchValues<char> StructureStops = System.Buffers.SearchValues.Create("\"{}[]\n");

    [System.Text.RegularExpressions.GeneratedRegex("""^\{\s*"doc_id"\s*:\s*(-?[0-9]+)\s*[,}]""")]
    private static partial System.Text.RegularExpressions.Regex DocIdFirst();

    /// <summary>
    /// The elements of a file holding one JSON array of objects, each as its text, named by the file and the line it
    /// begins on, read a piece at a time: the array's structure is followed (strings, nesting, the commas between
    /// elements), each element's own JSON is parsed by the caller.
    /// </summary>
    /// <exception cref="InvalidFileException">Not one array of objects: another value first, an element that is not an object, no comma between elements, anything after the array, or an end before it.</exception>
    private static IEnumerable<(string Name, string Element)> Elements(string path)
    {
        var element = new StringBuilder();
        var open = new Stack<char>();
        int line = 1, elementLine = 0, depth = 0;
        bool inString = false, escaped = false, opened = false, closed = false, expectComma = false;
        foreach (var (buffer, count) in ModelDocuments.ReadPieces(path))
        {
            int from = depth > 1 ? 0 : -1; // where the element's characters in this piece begin
            for (int i = 0; i < count; i++)
            {
                char c = buffer[i];
                if (depth <= 1 && !inString)
                {
                    if (c == '\n')
                    {
                        line++;
                    }

                    if (char.IsWhiteSpace(c) || (c == '\uFEFF' && !opened))
                    {
                        continue;
                    }

                    if (closed || (!opened && c != '['))
                    {
                        throw new InvalidFileException($"{path}:{line}", closed ? "holds more after the JSON array of samples (lm-evaluation-harness 0.4.0-0.4.2 logs one array)." : "is not one JSON array of samples, as lm-evaluation-harness 0.4.0-0.4.2 logs them (samples_TASK.jsonl of later versions hold a JSON object a line).");
                    }

                    if (!opened)
                    {
                        (opened, depth) = (true, 1);
                        continue;
                    }

                    if (c == ']')
                    {
                        closed = true;
                        continue;
                    }

                    if (expectComma != (c == ','))
                    {
                        throw new InvalidFileException($"{path}:{line}", expectComma ? "has no comma after the sample before it (not one JSON array of samples)." : c == ',' ? "has a comma where a sample should be (not one JSON array of samples)." : "is not a JSON object (lm-evaluation-harness 0.4.0-0.4.2 logs an array of sample objects).");
                    }

                    if (c == ',')
                    {
                        expectComma = false;
                        continue;
                    }

                    if (c != '{')
                    {
                        throw new InvalidFileException($"{path}:{line}", "is not a JSON object (lm-evaluation-harness 0.4.0-0.4.2 logs an array of sample objects).");
                    }

                    (elementLine, depth, from) = (line, 2, i);
                    open.Push(c);
                    element.Clear();
                    continue;
                }

                if (!escaped)
                {
                    // Past the characters that change nothing here: most of a sample.
                    int next = buffer.AsSpan(i, count - i).IndexOfAny(inString ? StringStops : StructureStops);
                    if (next < 0)
                    {
                        i = count - 1;
                        continue;
                    }

                    i += next;
                    c = buffer[i];
                }

                if (c == '\n')
                {
                    line++;
                }

                if (inString)
                {
                    (escaped, inString) = escaped ? (false, true) : (c == '\\', c != '"');
                }
                else if (c == '"')
                {
                    inString = true;
                }
                else if (c is '{' or '[')
                {
                    open.Push(c);
                    depth++;
                }
                else if (c is '}' or ']')
                {
                    if (open.Pop() != (c == '}' ? '{' : '['))
                    {
                        throw new InvalidFileException($"{path}:{elementLine}", $"is not JSON: a '{c}' on line {line} closes a '{(c == '}' ? '[' : '{')}'.");
                    }

                    if (--depth == 1)
                    {
                        expectComma = true;
                        element.Append(buffer, from, i + 1 - from);
                        from = -1;
                        yield return ($"{path}:{elementLine}", element.ToString());
                    }
                }
            }

            if (from >= 0)
            {
                element.Append(buffer, from, count - from);
            }
        }

        if (!closed)
        {
            throw new InvalidFileException(path, "ends before its JSON array of samples does (cut short?).");
        }
    }

    /// <summary>
    /// A 0.4.0-0.4.2 sample written as 0.4.3 on logs it: <c>arguments</c> {gen_args_i: {arg_j}} (where each request is a
    /// list), a <c>metrics</c> list of its other keys, and its <c>filter</c> where given.
    /// </summary>
    private static void Modern(JsonElement sample, string? filter, Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        foreach (var property in sample.EnumerateObject())
        {
            if (property.NameEquals("arguments") && property.Value.ValueKind == JsonValueKind.Array && property.Value.EnumerateArray().All(r => r.ValueKind == JsonValueKind.Array))
            {
                writer.WriteStartObject("arguments");
                int i = 0;
                foreach (var request in property.Value.EnumerateArray())
                {
                    writer.WriteStartObject($"gen_args_{i++}");
                    int j = 0;
                    foreach (var argument in request.EnumerateArray())
                    {
                        writer.WritePropertyName($"arg_{j++}");
                        argument.WriteTo(writer);
                    }

                    writer.WriteEndObject();
                }

                writer.WriteEndObject();
            }
            else
            {
                property.WriteTo(writer);
            }
        }

        if (filter is not null && !sample.TryGetProperty("filter", out _))
        {
            writer.WriteString("filter", filter);
        }

        if (!sample.TryGetProperty("metrics", out _))
        {
            writer.WriteStartArray("metrics");
            foreach (var property in sample.EnumerateObject().Where(p => !RecordKeys.Contains(p.Name)))
            {
                writer.WriteStringValue(property.Name);
            }

            writer.WriteEndArray();
        }

        writer.WriteEndObject();
    }
}
