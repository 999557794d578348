using System.Globalization;
using System.Text.Json;
using GpuInfo.Formats;

namespace GpuInfo.Cli;

/// <summary>
/// lm-evaluation-harness's per-sample log of a <c>loglikelihood</c> or <c>multiple_choice</c> task
/// (<c>lm_eval --log_samples</c>: <c>samples_TASK_DATE.jsonl</c>, a line per document): each document's requests as
/// the harness rendered them (<c>arguments</c>: <c>gen_args_i</c> = {<c>arg_0</c>: context, <c>arg_1</c>: continuation},
/// few-shot examples and all), and the model's scores as the harness computed them (<c>filtered_resps</c>: a
/// [log-likelihood, is_greedy] per request, written as strings). A document of one request is a <c>loglikelihood</c>
/// task's (LAMBADA); of several, a <c>multiple_choice</c> task's, whose <c>target</c> is the right choice's index
/// (or its text) and whose choices are the continuations after the task's target delimiter; or, where the requests'
/// contexts differ, a <c>multiple_input</c> task's (Winogrande's), whose choices are the contexts.
/// Each kind is read in a file of its own (<c>HarnessSamples.Requests.cs</c>, <c>.Rolling.cs</c>, <c>.Logged.cs</c>); here, what they share.
/// </summary>
internal static partial class HarnessSamples
{
    /// <summary>
    /// The files' lines, each with its key: the file's place among <paramref name="files"/> (a task's: MMLU logs one file
    /// per subject, each from doc_id 0), its <c>doc_id</c> (else its line) and, <paramref name="byFilter"/>, its
    /// <c>filter</c>. A run logged on several ranks holds its documents in another order than one on a single device,
    /// so two runs' documents are paired by key, not by line.
    /// </summary>
    /// <exception cref="InvalidFileException">A key given twice: a document logged under several filters where one is read, or twice in a file.</exception>
    private static IEnumerable<(string Name, JsonElement Line, string Key, int File)> Lines(IReadOnlyList<string> files, bool byFilter)
    {
        for (int f = 0; f < files.Count; f++)
        {
            var seen = new Dictionary<string, (string Name, string Filter)>(StringComparer.Ordinal);
            foreach (var (name, line) in Objects(files[f]))
            {
                string document = line.TryGetProperty("doc_id", out var id) ? $"doc_id {id.GetRawText()}" : name;
                string filter = line.TryGetProperty("filter", out var named) && named.ValueKind == JsonValueKind.String ? named.GetString()! : "none";
                string key = byFilter ? $"{document}, filter {filter}" : document;
                if (seen.TryGetValue(key, out var first))
                {
                    throw new InvalidFileException(name, first.Filter == filter
                        ? $"is {key} again (first at {first.Name}): a document logged twice."
                        : $"is {key} again (first at {first.Name}, under filter {first.Filter}), under filter {filter}: the harness logs a document once per filter; give one filter's lines.");
                }

                seen[key] = (name, filter);
                yield return (name, line, $"{f}: {key}", f);
            }
        }
    }

    /// <summary>What task the files' first line is a sample of, by its first request; <see cref="SampleKind.Requests"/> for none.</summary>
    public static SampleKind KindOf(IEnumerable<string> files)
    {
        foreach (var (_, line) in files.SelectMany(Objects))
        {
            if (!line.TryGetProperty("arguments", out var arguments) || arguments.ValueKind != JsonValueKind.Object
                || !arguments.TryGetProperty("gen_args_0", out var request) || request.ValueKind != JsonValueKind.Object)
            {
                return SampleKind.Requests; // not a sample as the harness logs one: Read says what is wrong
            }

            bool context = request.TryGetProperty("arg_0", out var c) && c.ValueKind == JsonValueKind.String;
            return !request.TryGetProperty("arg_1", out var second) ? (context ? SampleKind.Rolling : SampleKind.Requests)
                : second.ValueKind == JsonValueKind.String ? SampleKind.Requests : SampleKind.Generation;
        }

        return SampleKind.Requests;
    }

    /// <summary>The kinds of task whose samples are read differently.</summary>
    internal enum SampleKind
    {
        /// <summary>A <c>loglikelihood</c> or <c>multiple_choice</c> task's (<see cref="Read"/>).</summary>
        Requests,

        /// <summary>A <c>loglikelihood_rolling</c> task's: a text alone (<see cref="ReadRolling"/>).</summary>
        Rolling,

        /// <summary>A <c>generate_until</c> task's: a prompt and its generation's settings (<see cref="ReadLogged"/>).</summary>
        Generation,
    }

    /// <summary>A number as the harness writes one: a JSON number, or a string ("-1.25", "-inf").</summary>
    private static double? Number(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Number => value.GetDouble(),
        JsonValueKind.String when double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
        JsonValueKind.String when value.GetString() == "-inf" => double.NegativeInfinity,
        _ => null,
    };

    /// <summary>
    /// The task a samples file holds, from its name as the harness writes it (<c>samples_mmlu_anatomy_2026-12-07T10-11-12.123456.jsonl</c>:
    /// <c>mmlu_anatomy</c>, compressed or not: <c>.jsonl.gz</c>, <c>.jsonl.zst</c>); else the file's name without its extensions.
    /// </summary>
    public static string TaskOf(string path)
    {
        string name = Path.GetFileName(path);
        foreach (string compressed in (string[])[".gz", ".zst"])
        {
            name = name.EndsWith(compressed, StringComparison.OrdinalIgnoreCase) ? name[..^compressed.Length] : name;
        }

        name = name.EndsWith(".jsonl", StringComparison.Ordinal) ? name[..^".jsonl".Length] : Path.GetFileNameWithoutExtension(name);
        var match = System.Text.RegularExpressions.Regex.Match(name, @"^samples_(.+)_\d{4}-\d{2}-\d{2}T[0-9.:\-]+$");
        return match.Success ? match.Groups[1].Value : name;
    }

    /// <summary>The value at a dotted path into a JSON line (<c>doc.mc2_targets.labels</c>), a field whose own name holds dots first; null where there is none.</summary>
    internal static JsonElement? Find(JsonElement line, string path)
    {
        if (line.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (line.TryGetProperty(path, out var whole))
        {
            return whole;
        }

        int dot = path.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && line.TryGetProperty(path[..dot], out var inner) ? Find(inner, path[(dot + 1)..]) : null;
    }

    private static JsonElement Member(string name, JsonElement value, string field, JsonValueKind? kind) =>
        !value.TryGetProperty(field, out var member) ? throw new InvalidFileException(name, $"has no \"{field}\" (not a line of lm-evaluation-harness's samples_TASK.jsonl of a loglikelihood or multiple_choice task).")
        : kind is { } k && member.ValueKind != k ? throw new InvalidFileException(name, $"\"{field}\" is a JSON {member.ValueKind.ToString().ToLowerInvariant()}, not a{(k == JsonValueKind.Object ? "n object" : k == JsonValueKind.Array ? "n array" : " string")}.")
        : member;

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";
}
