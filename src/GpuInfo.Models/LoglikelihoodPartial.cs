using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using GpuInfo.Corpus;
using GpuInfo.Formats;

namespace GpuInfo.Models;

/// <summary>
/// One shard of a loglikelihood run: documents [<see cref="FirstDocument"/>, + <see cref="Scored"/>.Count) of
/// <see cref="Documents"/>, each with its requests' scores (<see cref="ScoredDocument"/>), and what the run was (its
/// <see cref="Identity"/>: the files' fingerprints and the settings that change a score). The shards' partials merge
/// (<see cref="Merge"/>) into the run's documents, in order, so that the report made from them is that of one run bit
/// for bit: the documents themselves are kept, not sums, as a bootstrap resamples them and a prediction is per document.
/// </summary>
public sealed class LoglikelihoodPartial
{
    /// <summary>The format's version, written in every partial.</summary>
    /// <remarks>Version 2 added a document's <c>labels</c> (truthfulqa_mc2's true choices), which a reader of version 1 would pass over; version 1's partials are read too.</remarks>
    public const int FormatVersion = 2;

    /// <summary>The <c>kind</c> these partials carry, beside <c>gpuinfo_partial</c> as corpus runs' partials do.</summary>
    public const string Kind = "loglikelihood";

    /// <param name="identity">What must agree between shards to merge (fingerprints without paths, settings).</param>
    /// <param name="paths">What the report names (the model's, the text's paths): told, not compared.</param>
    /// <exception cref="ArgumentException">The documents do not lie in [0, <paramref name="documents"/>), or a document has no requests.</exception>
    public LoglikelihoodPartial(Shard shard, int documents, int firstDocument, IReadOnlyList<ScoredDocument> scored, IReadOnlyDictionary<string, string> identity, IReadOnlyDictionary<string, string> paths)
    {
        ArgumentNullException.ThrowIfNull(scored);
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(paths);
        ArgumentOutOfRangeException.ThrowIfNegative(firstDocument);
        if ((long)firstDocument + scored.Count > documents)
        {
            throw new ArgumentException($"documents [{firstDocument}, {firstDocument + scored.Count}) are not all among {documents}.", nameof(scored));
        }

        if (scored.FirstOrDefault(d => d.Requests.Count == 0 || (d.Choices is { } c && c.Choices.Count != d.Requests.Count) || (d.Other is { } o && o.Count != d.Requests.Count)) is { } bad)
        {
            throw new ArgumentException($"{bad.Name}: {bad.Requests.Count} requests, which are none or not one per choice or other score.", nameof(scored));
        }

        if (scored.Select(d => d.Choices is null).Distinct().Count() > 1 || scored.Select(d => d.Other is null).Distinct().Count() > 1
            || scored.Select(d => d.Choices?.Labels is null).Distinct().Count() > 1)
        {
            throw new ArgumentException("the documents mix multiple-choice documents with requests, documents with labels of their true choices with ones without, or documents compared with others with ones not compared: not one run's.", nameof(scored));
        }

        Shard = shard;
        Documents = documents;
        FirstDocument = firstDocument;
        Scored = scored;
        Identity = new SortedDictionary<string, string>(identity.ToDictionary(), StringComparer.Ordinal);
        Paths = paths;
    }

    public Shard Shard { get; }

    /// <summary>The run's documents, every shard's.</summary>
    public int Documents { get; }

    public int FirstDocument { get; }

    public IReadOnlyList<ScoredDocument> Scored { get; }

    public IReadOnlyDictionary<string, string> Identity { get; }

    public IReadOnlyDictionary<string, string> Paths { get; }

    /// <summary>How many shard partials this one merges (1 for a shard's own).</summary>
    public int Parts { get; private init; } = 1;

    /// <summary>The file it was read from, for messages; null where it was made in memory.</summary>
    public string? Origin { get; private init; }

    /// <summary>A file's own fingerprint as <see cref="Identity"/> holds it: everything but its path.</summary>
    public static string Describe(FileFingerprint file)
    {
        ArgumentNullException.ThrowIfNull(file);
        return $"{file.Bytes} bytes, header sha256 {file.HeaderSha256}, sample sha256 {file.SampleSha256}";
    }

    /// <summary>Whether the file at <paramref name="path"/> is a loglikelihood partial (its header read as every partial's is: <see cref="PartialFile.ReadHeader"/>).</summary>
    public static bool IsOne(string path)
    {
        try
        {
            return (string?)PartialFile.ReadHeader(path, "")["kind"] == Kind;
        }
        catch (InvalidFileException)
        {
            return false;
        }
    }

    /// <summary>Writes the partial to <paramref name="path"/> atomically (a reader never sees half of it).</summary>
    public void Save(string path)
    {
        var documents = new JsonArray();
        foreach (var d in Scored)
        {
            var o = new JsonObject
            {
                ["name"] = d.Name,
                ["requests"] = new JsonArray([.. d.Requests.Select(r => (JsonNode)new JsonArray(Number(r.LogLikelihood), r.IsGreedy, r.ContinuationTokens, r.ContextTokens, r.Truncated))]),
            };
            if (d.File != 0)
            {
                o["file"] = d.File;
            }

            if (d.Other is { } other)
            {
                o["other"] = new JsonArray([.. other.Select(r => (JsonNode)new JsonArray(Number(r.LogLikelihood), r.IsGreedy))]);
            }

            if (d.Choices is { } c)
            {
                o["choices"] = new JsonArray([.. c.Choices.Select(x => (JsonNode)x)]);
                o["gold"] = c.Gold;
                if (c.SharedContinuation is { } shared)
                {
                    o["shared_continuation"] = shared;
                }

                if (c.Labels is { } labels)
                {
                    o["labels"] = new JsonArray([.. labels.Select(l => (JsonNode)(l ? 1 : 0))]);
                }
            }

            documents.Add(o);
        }

        var root = new JsonObject
        {
            ["gpuinfo_partial"] = FormatVersion,
            ["kind"] = Kind,
            ["shard"] = Shard.ToString(),
            ["documents"] = Documents,
            ["first_document"] = FirstDocument,
            ["identity"] = new JsonObject([.. Identity.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))]),
            ["paths"] = new JsonObject([.. Paths.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))]),
            ["scored"] = documents,
        };
        AtomicFile.Write(path, stream =>
        {
            using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            root.WriteTo(writer);
        });
    }

    /// <summary>Reads a partial <see cref="Save"/> wrote.</summary>
    /// <exception cref="InvalidFileException">The file cannot be read, or is not such a partial, naming what is wrong.</exception>
    public static LoglikelihoodPartial Load(string path)
    {
        var o = PartialFile.ReadHeader(path, "'loglikelihood --partial'");
        if ((string?)o["kind"] != Kind)
        {
            throw new InvalidFileException(path, $"a partial of kind '{(string?)o["kind"]}' cannot be merged with loglikelihood partials.");
        }

        try
        {
            int version = (int)o["gpuinfo_partial"]!;
            if (version is < 1 or > FormatVersion)
            {
                throw new InvalidFileException(path, $"a loglikelihood partial of format version {version}, which this gpuinfo does not read (it reads 1 to {FormatVersion}).");
            }

            if (!Shard.TryParse((string?)o["shard"], out var shard))
            {
                throw new InvalidFileException(path, $"\"shard\" is {o["shard"]?.ToJsonString() ?? "missing"}, not i/n.");
            }

            var scored = Required(o, "scored").AsArray().Select(d => Document(Required(d!.AsObject(), "name").GetValue<string>(), d.AsObject())).ToList();
            var paths = Strings(Required(o, "paths"));
            int files = Math.Max(1, Enumerable.Range(0, paths.Count).TakeWhile(i => paths.ContainsKey($"file {i}")).Count());
            if (scored.FirstOrDefault(d => d.File < 0 || d.File >= files) is { } stray)
            {
                throw new FormatException($"{stray.Name}: file {stray.File}, not one of the {files} the paths name");
            }

            return new LoglikelihoodPartial(shard, (int)Required(o, "documents"), (int)Required(o, "first_document"), scored, Strings(Required(o, "identity")), paths)
            {
                Origin = path,
            };
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or KeyNotFoundException or NullReferenceException)
        {
            throw new InvalidFileException(path, $"not a loglikelihood partial as gpuinfo writes one ({e.Message.Split(" (Parameter")[0]}).");
        }
    }

    /// <summary>
    /// The run's documents from every shard's partial, each exactly once: of one run (the same identity and shard count)
    /// and covering the shard's documents. The order of the partials does not matter.
    /// </summary>
    /// <exception cref="InvalidFileException">Partials of different runs, a shard missing or given twice, naming the file.</exception>
    public static LoglikelihoodPartial Merge(IEnumerable<LoglikelihoodPartial> partials)
    {
        ArgumentNullException.ThrowIfNull(partials);
        LoglikelihoodPartial? first = null;
        LoglikelihoodPartial?[] shards = [];
        int count = 0;
        foreach (var p in partials)
        {
            ArgumentNullException.ThrowIfNull(p, nameof(partials));
            string name = p.Origin ?? $"partial #{count}";
            first ??= p;
            string firstName = first.Origin ?? "partial #0";
            if (shards.Length == 0)
            {
                shards = new LoglikelihoodPartial?[p.Shard.Count];
            }

            if (p.Parts != 1)
            {
                throw new InvalidFileException(name, $"it already merges {p.Parts} shards; merge the shard partials themselves.");
            }

            if (p.Shard.Count != first.Shard.Count || p.Documents != first.Documents)
            {
                throw new InvalidFileException(name, $"shard {p.Shard} of {p.Documents} documents belongs to another run than {firstName} (shard {first.Shard} of {first.Documents}).");
            }

            foreach (var key in first.Identity.Keys.Union(p.Identity.Keys).Order(StringComparer.Ordinal))
            {
                string a = first.Identity.GetValueOrDefault(key, "(none)"), b = p.Identity.GetValueOrDefault(key, "(none)");
                if (a != b)
                {
                    throw new InvalidFileException(name, $"{key} is {b} here but {a} in {firstName}: partials of different models, texts or options cannot be merged.");
                }
            }

            var (start, length) = p.Shard.Range(p.Documents);
            if (p.FirstDocument != start || p.Scored.Count != length)
            {
                throw new InvalidFileException(name, $"shard {p.Shard} covers documents [{p.FirstDocument}, {p.FirstDocument + p.Scored.Count}), not [{start}, {start + length}) of {p.Documents}.");
            }

            if (shards[p.Shard.Index] is { } twice)
            {
                throw new InvalidFileException(name, $"shard {p.Shard} is also in {twice.Origin ?? "another partial"}.");
            }

            shards[p.Shard.Index] = p;
            count++;
        }

        if (first is null)
        {
            throw new ArgumentException("there are no partials to merge.", nameof(partials));
        }

        var missing = Enumerable.Range(0, shards.Length).Where(i => shards[i] is null).ToList();
        if (missing.Count > 0)
        {
            string shown = string.Join(", ", missing.Take(8).Select(i => $"{i}/{shards.Length}")) + (missing.Count > 8 ? $" and {missing.Count - 8} more" : "");
            throw new InvalidFileException(first.Origin ?? "partial #0", $"the run has {shards.Length} shards; missing: {shown}.");
        }

        return new LoglikelihoodPartial(Shard.All, first.Documents, 0, [.. shards.SelectMany(s => s!.Scored)], first.Identity, first.Paths) { Parts = count };
    }

    private static ScoredDocument Document(string name, JsonObject o)
    {
        var requests = Required(o, "requests").AsArray().Select(r =>
        {
            var a = r!.AsArray();
            return a.Count == 5 ? new RequestScore(Double(a[0]), (bool)a[1]!, (long)a[2]!, (int)a[3]!, (bool)a[4]!)
                : throw new FormatException($"{name}: a request's score is 5 values, not {a.Count}");
        }).ToList();
        var other = o["other"]?.AsArray().Select(r => (Double(r!.AsArray()[0]), (bool)r.AsArray()[1]!)).ToList();
        MultipleChoiceDocument? choices = null;
        if (o["choices"] is JsonArray array)
        {
            choices = new MultipleChoiceDocument(name, "", [.. array.Select(c => c!.GetValue<string>())], (int)Required(o, "gold")) 
            {
                SharedContinuation = (string?)o["shared_continuation"],
                Labels = o["labels"]?.AsArray().Select(l => (int)l! switch { 0 => false, 1 => true, var v => throw new FormatException($"{name}: a label is {v}, not 0 or 1") }).ToArray(),
            };
            choices.Validate();
        }

        return new ScoredDocument(name, requests, choices, other) { File = o["file"] is { } file ? (int)file : 0 };
    }

    private static JsonNode Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : JsonValue.Create(value.ToString("R", CultureInfo.InvariantCulture));

    private static double Double(JsonNode? node) => node!.GetValueKind() == JsonValueKind.String
        ? double.Parse(node.GetValue<string>(), CultureInfo.InvariantCulture) : node.GetValue<double>();

    private static JsonNode Required(JsonObject o, string key) => o[key] ?? throw new KeyNotFoundException($"no \"{key}\"");

    private static SortedDictionary<string, string> Strings(JsonNode node) =>
        new(node.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>()), StringComparer.Ordinal);
}
