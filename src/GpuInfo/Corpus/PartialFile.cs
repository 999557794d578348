using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using GpuInfo.Formats;

namespace GpuInfo.Corpus;

/// <summary>
/// The partial file format (version <see cref="CorpusPartial.FormatVersion"/>, reading back to
/// <see cref="CorpusPartial.OldestReadableVersion"/>; documented in
/// docs/partials.md with a JSON schema): sums are stored exactly (as <see cref="ExactSum"/> text)
/// and, for people, rounded; loading uses only the exact ones. Every malformation is an
/// <see cref="InvalidFileException"/> naming the file.
/// </summary>
internal static class PartialFile
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static void Save(CorpusPartial partial, string path) =>
        AtomicFile.Write(path, stream =>
        {
            using var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            ToJson(partial).WriteTo(writer, Indented);
        });

    public static CorpusPartial Load(string path)
    {
        var o = ReadHeader(path, "a corpus run: 'eval --partial' or 'compare --partial'");
        try
        {
            return Parse(path, o);
        }
        catch (ArgumentException e)
        {
            // A value the totals' own checks refuse (a negative count, a shape out of range).
            throw new InvalidFileException(path, e.Message.Split(" (Parameter")[0]);
        }
    }

    /// <summary>
    /// A partial's JSON, read whole, with its <c>gpuinfo_partial</c> version and <c>kind</c> there (any partial's, a
    /// loglikelihood run's too); <paramref name="writtenBy"/> says what writes the partials the caller reads.
    /// </summary>
    /// <exception cref="InvalidFileException">The file is missing, unreadable, not JSON, or not a gpuinfo partial.</exception>
    internal static JsonObject ReadHeader(string path, string writtenBy)
    {
        ArgumentNullException.ThrowIfNull(path);
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InvalidFileException(path, "file not found.");
        }
        catch (JsonException e)
        {
            throw new InvalidFileException(path, $"not valid JSON ({e.Message.Split('\n')[0]}).");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidFileException(path, $"cannot read: {e.Message}");
        }

        if (node is not JsonObject o || o["gpuinfo_partial"]?.GetValueKind() != JsonValueKind.Number || o["kind"]?.GetValueKind() != JsonValueKind.String)
        {
            throw new InvalidFileException(path, $"not a gpuinfo partial (written by {writtenBy}).");
        }

        return o;
    }

    private static CorpusPartial Parse(string path, JsonObject o)
    {
        var r = new Reader(path);
        int version = r.Get<int>(o, "gpuinfo_partial");
        if (version < CorpusPartial.OldestReadableVersion || version > CorpusPartial.FormatVersion)
        {
            throw new InvalidFileException(path, $"partial format version {version} is not {CorpusPartial.OldestReadableVersion} to {CorpusPartial.FormatVersion}; rerun that shard with this version of gpuinfo.");
        }

        string kind = r.Get<string>(o, "kind");
        var measure = kind switch
        {
            "eval" => CorpusMeasure.Evaluation,
            "compare" => CorpusMeasure.Comparison,
            _ => throw new InvalidFileException(path, $"unknown partial kind '{kind}'."),
        };
        var shardNode = r.Object(o, "shard");
        int index = r.Get<int>(shardNode, "index"), count = r.Get<int>(shardNode, "count");
        long shardRows = r.Get<long>(shardNode, "rows");
        if (count < 1 || index < 0 || index >= count)
        {
            throw new InvalidFileException(path, $"shard {index}/{count} is not a shard (need 0 <= index < count).");
        }

        long firstRow = r.Get<long>(shardNode, "first_row");
        if (firstRow < 0 || shardRows < 0)
        {
            throw new InvalidFileException(path, $"shard rows [{firstRow}, +{shardRows}) are not rows (first_row and rows >= 0).");
        }

        var sources = r.Array(o, "sources").Select(s => r.Source(s)).ToList();
        if (sources.Count != (measure == CorpusMeasure.Evaluation ? 1 : 2))
        {
            throw new InvalidFileException(path, $"a '{kind}' partial records {(measure == CorpusMeasure.Evaluation ? 1 : 2)} source(s), this one {sources.Count}.");
        }

        var options = r.Strings(r.Object(o, "options"));
        var counts = r.Object(o, "counts");
        int calibrationBins = version < 6 ? CalibrationBins.DefaultBins
            : options.TryGetValue("calibration_bins", out string? binsText) && int.TryParse(binsText, NumberStyles.None, CultureInfo.InvariantCulture, out int parsedBins)
                && parsedBins is >= 1 and <= CalibrationBins.MaxBins ? parsedBins
            : throw new InvalidFileException(path, $"options.calibration_bins must be a whole number from 1 to {CalibrationBins.MaxBins}.");
        var sums = r.Object(o, "exact_sums").ToDictionary(kv => kv.Key, kv => r.Exact(kv.Value, $"exact_sums.{kv.Key}"));
        if (measure == CorpusMeasure.Evaluation)
        {
            long withoutTarget = r.Get<long>(counts, "rows_without_target");
            var hits = r.Object(counts, "top_k_hits");
            var topK = hits.ToDictionary(
                kv => int.TryParse(kv.Key, NumberStyles.None, CultureInfo.InvariantCulture, out int k) ? k : throw new InvalidFileException(path, $"top_k_hits key '{kv.Key}' is not a k."),
                kv => r.Get<long>(hits, kv.Key));
            var totals = PerplexityAccumulator.Restore(r.Get<long>(counts, "tokens"), r.Get<long>(counts, "ignored"), r.Get<long>(counts, "top1_hits"),
                Complete(sums, path, ["nll_sum", "nll_sq_sum", "weight_sum", "entropy_sum", "entropy_sq_sum"]), topK, r.Get<long>(counts, "scored_bytes"),
                version >= 4 ? r.Get<long>(counts, "scored_words") : 0, version >= 6 ? r.Calibration(r.Object(o, "calibration"), "calibration", calibrationBins, version >= 7) : null,
                classWeights: !(options.TryGetValue("class_weights", out string? weights) && weights == "none"));
            if (withoutTarget < 0 || withoutTarget > totals.Ignored)
            {
                throw new InvalidFileException(path, $"rows_without_target {withoutTarget} is not within the {totals.Ignored} ignored rows.");
            }

            // Every row of a shard is scored or ignored: an edited count would skew the merged figures.
            if (totals.Tokens + totals.Ignored != shardRows)
            {
                throw new InvalidFileException(path, $"tokens {totals.Tokens} and ignored {totals.Ignored} do not add up to the shard's {shardRows} rows.");
            }

            r.CheckRoundedSums(o, sums);
            return new CorpusPartial(measure, sources, options, new Shard(index, count), firstRow, shardRows,
                totals, null, withoutTarget, r.Get<int>(o, "parts"), path, version);
        }

        var sketch = r.Object(o, "kl_sketch");
        long infinite = r.Get<long>(sketch, "infinite");
        // A bound is written null where it is not finite: an empty sketch's, or +inf, the one KL that is
        // not finite (a max of +inf read as an empty sketch's -inf lost the infinite KLs' top percentiles).
        var histogram = LogHistogram.Restore(
            r.Get<long>(sketch, "below"), infinite, r.Double(sketch, "min", double.PositiveInfinity),
            r.Double(sketch, "max", infinite > 0 ? double.PositiveInfinity : double.NegativeInfinity), Bins(r.Object(sketch, "bins")));
        var deltaP = r.Object(o, "delta_p_sketch");
        var deltaPHistogram = LinearHistogram.Restore(r.Double(deltaP, "min", double.PositiveInfinity), r.Double(deltaP, "max", double.NegativeInfinity),
            Bins(r.Object(deltaP, "bins")));
        bool hasTargets = r.Get<bool>(counts, "has_targets");
        var calibration = version < 6 ? ((CalibrationBins, CalibrationBins)?)null
            : hasTargets ? (r.Calibration(r.Object(o, "calibration_base"), "calibration_base", calibrationBins, version >= 7),
                r.Calibration(r.Object(o, "calibration_test"), "calibration_test", calibrationBins, version >= 7))
            : (new CalibrationBins(calibrationBins), new CalibrationBins(calibrationBins));
        // A sum its version did not define is not read, even where an edited file holds one.
        var known = sums.Where(s => ComparisonAccumulator.SumKnownIn(s.Key, version)).ToDictionary();
        var comparison = ComparisonAccumulator.Restore(r.Get<long>(counts, "tokens"), r.Get<long>(counts, "same_top1"), hasTargets,
            Complete(known, path, [.. new ComparisonAccumulator().ExactSums.Select(s => s.Name).Where(n => ComparisonAccumulator.SumKnownIn(n, version))]),
            histogram, deltaPHistogram, calibration);
        foreach (var (key, agreement) in r.Object(o, "top_k_agreement"))
        {
            var entry = agreement as JsonObject ?? throw new InvalidFileException(path, $"top_k_agreement.{key} is not an object.");
            int k = int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out int parsed) ? parsed : throw new InvalidFileException(path, $"top_k_agreement key '{key}' is not a k.");
            comparison.RestoreTopK(k, r.Exact(entry["overlap_sum"], $"top_k_agreement.{key}.overlap_sum"), r.Exact(entry["overlap_sq_sum"], $"top_k_agreement.{key}.overlap_sq_sum"),
                r.Get<long>(entry, "top1_in_top_k"));
        }

        if (comparison.Tokens > shardRows)
        {
            throw new InvalidFileException(path, $"tokens {comparison.Tokens} exceed the shard's {shardRows} rows.");
        }

        r.CheckRoundedSums(o, sums);
        return new CorpusPartial(measure, sources, options, new Shard(index, count), firstRow, shardRows,
            null, comparison, 0, r.Get<int>(o, "parts"), path, version);
    }

    public static JsonObject ToJson(CorpusPartial p)
    {
        var o = new JsonObject
        {
            ["gpuinfo_partial"] = p.Version, // a partial read from an older version is written as it was
            ["kind"] = KindName(p.Measure),
            ["parts"] = p.Parts,
            ["shard"] = new JsonObject { ["index"] = p.Shard.Index, ["count"] = p.Shard.Count, ["first_row"] = p.FirstRow, ["rows"] = p.RowCount },
            ["sources"] = new JsonArray([.. p.Sources.Select(SourceJson)]),
            ["options"] = StringsJson(p.Options),
        };
        IEnumerable<(string Name, ExactSum Sum)> sums;
        if (p.Evaluation is { } e)
        {
            var counts = new JsonObject
            {
                ["tokens"] = e.Tokens,
                ["ignored"] = e.Ignored,
                ["rows_without_target"] = p.RowsWithoutTarget,
                ["top1_hits"] = e.Top1Hits,
                ["scored_bytes"] = e.ScoredBytes,
            };
            if (p.Version >= 4)
            {
                counts["scored_words"] = e.ScoredWords;
            }

            counts["top_k_hits"] = new JsonObject(e.TopKHits.Select(kv => KeyValuePair.Create(kv.Key.ToString(CultureInfo.InvariantCulture), (JsonNode?)kv.Value)));
            o["counts"] = counts;
            if (e.Calibration is { } calibration)
            {
                o["calibration"] = CalibrationJson(calibration);
            }
            sums = e.ExactSums;
        }
        else
        {
            var c = p.Comparison!;
            o["counts"] = new JsonObject { ["tokens"] = c.Tokens, ["same_top1"] = c.SameTop1, ["has_targets"] = c.HasTargets };
            if (c.HasTargets && c.CalibrationBase is { } calibrationBase && c.CalibrationTest is { } calibrationTest)
            {
                o["calibration_base"] = CalibrationJson(calibrationBase);
                o["calibration_test"] = CalibrationJson(calibrationTest);
            }
            sums = c.ExactSums;
            o["kl_sketch"] = new JsonObject
            {
                ["below"] = c.KlSketch.Below,
                ["infinite"] = c.KlSketch.Infinite,
                ["min"] = Finite(c.KlSketch.Min),
                ["max"] = Finite(c.KlSketch.Max),
                ["bins"] = BinsJson(c.KlSketch.Bins()),
            };
            o["top_k_agreement"] = new JsonObject(c.TopKTotalsByK.Select(t => KeyValuePair.Create(t.K.ToString(CultureInfo.InvariantCulture), (JsonNode?)new JsonObject
            {
                ["overlap_sum"] = t.Overlap.ToExactString(),
                ["overlap_sq_sum"] = t.OverlapSquared.ToExactString(),
                ["top1_in_top_k"] = t.TopOneIn,
            })));
            o["delta_p_sketch"] = new JsonObject
            {
                ["min"] = Finite(c.DeltaPSketch.Min),
                ["max"] = Finite(c.DeltaPSketch.Max),
                ["bins"] = BinsJson(c.DeltaPSketch.Bins()),
            };
        }

        var list = sums.ToList();
        o["sums"] = new JsonObject(list.Select(s => KeyValuePair.Create(s.Name, Finite(s.Sum.Value))));
        o["exact_sums"] = new JsonObject(list.Select(s => KeyValuePair.Create(s.Name, (JsonNode?)s.Sum.ToExactString())));
        return o;
    }

    private static JsonObject CalibrationJson(CalibrationBins bins)
    {
        var o = new JsonObject
        {
            ["tokens"] = new JsonArray([.. bins.BinTokens.Select(n => (JsonNode)n)]),
            ["correct"] = new JsonArray([.. bins.BinCorrect.Select(n => (JsonNode)n)]),
            ["confidence_sums"] = new JsonArray([.. bins.ConfidenceSums.Select(c => (JsonNode)c.ToExactString())]),
        };
        if (bins.BrierSums is { } brier)
        {
            // Absent only where read from a version 6 partial, which is written back as version 6.
            o["brier_sum"] = brier.Sum.ToExactString();
            o["brier_sq_sum"] = brier.SquaredSum.ToExactString();
        }

        return o;
    }

    public static string KindName(CorpusMeasure measure) => measure == CorpusMeasure.Evaluation ? "eval" : "compare";

    /// <summary>
    /// What must agree between partials of one run, as "key → value" pairs: every source field but
    /// file paths (the same files may be mounted elsewhere on another node), and every option.
    /// </summary>
    public static SortedDictionary<string, string> Identity(CorpusPartial p)
    {
        var flat = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < p.Sources.Count; i++)
        {
            Flatten(SourceJson(p.Sources[i]), $"sources[{i}]", flat);
        }

        Flatten(StringsJson(p.Options), "options", flat);
        return flat;
    }

    private static void Flatten(JsonNode? node, string prefix, SortedDictionary<string, string> flat)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o)
                {
                    if (k != "path")
                    {
                        Flatten(v, $"{prefix}.{k}", flat);
                    }
                }

                break;
            case JsonArray a:
                flat[$"{prefix}.count"] = a.Count.ToString(CultureInfo.InvariantCulture);
                for (int i = 0; i < a.Count; i++)
                {
                    Flatten(a[i], $"{prefix}[{i}]", flat);
                }

                break;
            default:
                flat[prefix] = node?.ToJsonString() ?? "null";
                break;
        }
    }

    private static JsonObject SourceJson(SourceDescription s) => new()
    {
        ["kind"] = s.Kind,
        ["rows"] = s.Rows,
        ["vocab"] = s.Vocab,
        ["dtype"] = TypeName(s.Type),
        ["values"] = s.Values == RowValueKind.Logits ? "logits" : "log_probabilities",
        ["files"] = new JsonArray([.. s.Files.Select(f => (JsonNode)new JsonObject { ["role"] = f.Role, ["path"] = f.Path, ["bytes"] = f.Bytes, ["header_sha256"] = f.HeaderSha256, ["sample_sha256"] = f.SampleSha256 })]),
        ["settings"] = StringsJson(s.Settings),
    };

    private static JsonObject StringsJson(IReadOnlyDictionary<string, string> values) =>
        new(values.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value)));

    private static string TypeName(ScalarType t) => t switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.Float16 => "float16",
        _ => "bfloat16",
    };

    /// <summary>A sketch's non-empty bins as {"index": count}.</summary>
    private static JsonObject BinsJson(IEnumerable<(int Index, long Count)> bins) =>
        new(bins.Select(b => KeyValuePair.Create(b.Index.ToString(CultureInfo.InvariantCulture), (JsonNode?)b.Count)));

    /// <summary>Bins read back; malformed keys or counts come out negative, which the sketches' Restore refuses.</summary>
    private static IEnumerable<(int Index, long Count)> Bins(JsonObject bins) =>
        bins.Select(b => (int.TryParse(b.Key, NumberStyles.None, CultureInfo.InvariantCulture, out int i) ? i : -1,
            b.Value is JsonValue v && v.TryGetValue(out long count) ? count : -1L));

    private static JsonNode? Finite(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    private static Dictionary<string, ExactSum> Complete(Dictionary<string, ExactSum> sums, string path, string[] names)
    {
        foreach (var name in names)
        {
            if (!sums.ContainsKey(name))
            {
                throw new InvalidFileException(path, $"exact_sums.{name} is missing.");
            }
        }

        return sums;
    }

    /// <summary>Typed access to a partial's fields; a missing or mistyped field is an error naming the file and field.</summary>
    private sealed class Reader(string path)
    {
        public T Get<T>(JsonObject o, string name)
        {
            try
            {
                return o[name] is { } node ? node.GetValue<T>() : throw new FormatException();
            }
            catch (Exception e) when (e is FormatException or InvalidOperationException)
            {
                throw Bad(name, typeof(T) == typeof(string) ? "string" : typeof(T) == typeof(bool) ? "boolean" : "number");
            }
        }

        public double Double(JsonObject o, string name, double whenNull) =>
            o.TryGetPropertyValue(name, out var v) && v is null ? whenNull : Get<double>(o, name);

        public JsonObject Object(JsonObject o, string name) => o[name] as JsonObject ?? throw Bad(name, "object");

        /// <summary>
        /// Refuses a rounded sum (<c>sums</c>, for people, where the file has them) that is not its exact
        /// sum rounded to float64 (null where that is not finite). Reformatting tools may print a float64
        /// to 15 digits only: 1e-12 of room.
        /// </summary>
        public void CheckRoundedSums(JsonObject partial, Dictionary<string, ExactSum> exact)
        {
            if (!partial.ContainsKey("sums"))
            {
                return;
            }

            var rounded = Object(partial, "sums");
            foreach (var (name, node) in rounded)
            {
                if (!exact.TryGetValue(name, out var sum))
                {
                    continue;
                }

                double value = sum.Value;
                bool agrees = node is null ? !double.IsFinite(value)
                    : node is JsonValue v && v.TryGetValue(out double shown) ? Math.Abs(shown - value) <= 1e-12 * Math.Abs(value)
                    : throw Bad($"sums.{name}", "number");
                if (!agrees)
                {
                    throw new InvalidFileException(path, $"sums.{name} is {node?.ToJsonString() ?? "null"}, but exact_sums.{name} is {value}.");
                }
            }
        }

        public JsonArray Array(JsonObject o, string name) => o[name] as JsonArray ?? throw Bad(name, "array");

        public Dictionary<string, string> Strings(JsonObject o) =>
            o.ToDictionary(kv => kv.Key, kv => kv.Value?.GetValueKind() == JsonValueKind.String ? kv.Value.GetValue<string>() : throw Bad(kv.Key, "string"));

        public ExactSum Exact(JsonNode? node, string name)
        {
            try
            {
                return node?.GetValueKind() == JsonValueKind.String ? ExactSum.Parse(node.GetValue<string>()) : throw Bad(name, "string");
            }
            catch (FormatException e)
            {
                throw new InvalidFileException(path, $"{name}: {e.Message}");
            }
        }

        /// <summary>
        /// Calibration slots (from version 6: the options' calibration_bins B, then the confidences of
        /// exactly 1): per slot its tokens, correct top-1 predictions and exact confidence sum; from
        /// version 7 (<paramref name="withBrier"/>) also the exact Σ Brier and Σ Brier² of its tokens.
        /// </summary>
        public CalibrationBins Calibration(JsonObject c, string name, int bins, bool withBrier)
        {
            long[] Counts(string field) => [.. Array(c, field).Select((n, i) => n is JsonValue v && v.TryGetValue(out long count) ? count : throw Bad($"{name}.{field}[{i}]", "integer"))];
            var sums = Array(c, "confidence_sums").Select((n, i) => Exact(n, $"{name}.confidence_sums[{i}]")).ToArray();
            var tokens = Counts("tokens");
            var brier = withBrier ? (Exact(c["brier_sum"], $"{name}.brier_sum"), Exact(c["brier_sq_sum"], $"{name}.brier_sq_sum")) : ((ExactSum, ExactSum)?)null;
            return tokens.Length == bins + 1 ? CalibrationBins.Restore(tokens, Counts("correct"), sums, brier)
                : throw new InvalidFileException(path, $"{name} has {tokens.Length} slots; options.calibration_bins {bins} needs {bins + 1} (the bins, then the confidences of exactly 1).");
        }

        public SourceDescription Source(JsonNode? node)
        {
            if (node is not JsonObject s)
            {
                throw Bad("sources[]", "object");
            }

            var type = Get<string>(s, "dtype") switch
            {
                "float32" => ScalarType.Float32,
                "float16" => ScalarType.Float16,
                "bfloat16" => ScalarType.BFloat16,
                var other => throw new InvalidFileException(path, $"unknown dtype '{other}' in sources."),
            };
            var values = Get<string>(s, "values") switch
            {
                "logits" => RowValueKind.Logits,
                "log_probabilities" => RowValueKind.LogProbabilities,
                var other => throw new InvalidFileException(path, $"unknown row values '{other}' in sources."),
            };
            var files = Array(s, "files").Select(f => f is JsonObject fo
                ? new FileFingerprint(Get<string>(fo, "role"), Get<string>(fo, "path"), Get<long>(fo, "bytes"), Get<string>(fo, "header_sha256"), Get<string>(fo, "sample_sha256"))
                : throw Bad("files[]", "object")).ToList();
            long rows = Get<long>(s, "rows");
            int vocab = Get<int>(s, "vocab");
            if (rows < 0 || vocab < 1 || files.Any(f => f.Bytes < 0))
            {
                throw new InvalidFileException(path, $"a source of {rows} rows, vocabulary {vocab} and files of {string.Join(", ", files.Select(f => f.Bytes))} bytes is not one a run reads (rows, bytes >= 0, vocabulary >= 1).");
            }

            return new SourceDescription(Get<string>(s, "kind"), rows, vocab, type, values, files, Strings(Object(s, "settings")));
        }

        private InvalidFileException Bad(string name, string what) => new(path, $"field '{name}' is missing or not a{(what[0] is 'a' or 'o' ? "n" : "")} {what}.");
    }
}
