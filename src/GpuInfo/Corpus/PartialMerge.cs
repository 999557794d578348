using System.Globalization;
using GpuInfo.Formats;

namespace GpuInfo.Corpus;

/// <summary>
/// Merges the shard partials of one run in one pass (each partial is checked and added as it comes,
/// so a thousand partials read from files are never all in memory): same measure, sources, options
/// and shard count; every shard exactly once, covering its rows. The sums are exact, so the order of
/// the partials does not matter and the result is bit for bit that of one run over all rows.
/// </summary>
internal static class PartialMerge
{
    public static CorpusPartial Merge(IEnumerable<CorpusPartial> partials)
    {
        ArgumentNullException.ThrowIfNull(partials);
        CorpusPartial? first = null;
        SortedDictionary<string, string>? identity = null;
        string[] seen = [];
        int count = 0;
        long withoutTarget = 0, rowCount = 0;
        PerplexityAccumulator? evaluation = null;
        ComparisonAccumulator? comparison = null;
        foreach (var p in partials)
        {
            if (p is null)
            {
                throw new ArgumentException($"partial #{count} is null.", nameof(partials));
            }

            string name = p.Origin ?? $"partial #{count}";
            if (first is null)
            {
                first = p;
                identity = PartialFile.Identity(p);
                seen = new string[p.Shard.Count];
                int bins = p.Evaluation?.Calibration?.BinCount ?? p.Comparison?.CalibrationBase?.BinCount ?? CalibrationBins.DefaultBins;
                evaluation = p.Evaluation is null ? null : new PerplexityAccumulator(bins);
                comparison = p.Comparison is null ? null : new ComparisonAccumulator(bins);
            }

            Check(p, name, first, identity!, count);
            if (seen[p.Shard.Index] is { } other)
            {
                throw new InvalidFileException(name, $"shard {p.Shard} is also in {other}.");
            }

            seen[p.Shard.Index] = name;
            evaluation?.Merge(p.Evaluation!);
            comparison?.Merge(p.Comparison!);
            withoutTarget += p.RowsWithoutTarget;
            rowCount += p.RowCount;
            count++;
        }

        if (first is null)
        {
            throw new ArgumentException("there are no partials to merge.", nameof(partials));
        }

        if (count == 1 && first.Parts > 1)
        {
            return first;
        }

        var missing = Enumerable.Range(0, seen.Length).Where(i => seen[i] is null).ToList();
        if (missing.Count > 0)
        {
            string shown = string.Join(", ", missing.Take(8).Select(i => $"{i}/{seen.Length}")) + (missing.Count > 8 ? $" and {missing.Count - 8} more" : "");
            throw new InvalidFileException(first.Origin ?? "partial #0", $"the run has {seen.Length} shards; missing: {shown}.");
        }

        return new CorpusPartial(first.Measure, first.Sources, first.Options, Shard.All, 0, rowCount, evaluation, comparison, withoutTarget, count, version: first.Version);
    }

    /// <summary>" (its model-data file x.onnx_data)" where <paramref name="key"/> is a field of a source's file, which the key names only by index.</summary>
    private static string WhichFile(string key, CorpusPartial p)
    {
        var match = System.Text.RegularExpressions.Regex.Match(key, @"^sources\[(\d+)\]\.files\[(\d+)\]\.");
        if (!match.Success)
        {
            return "";
        }

        int source = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture), file = int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture);
        return source < p.Sources.Count && file < p.Sources[source].Files.Count
            ? $" (its {p.Sources[source].Files[file].Role} file {p.Sources[source].Files[file].Path})"
            : "";
    }

    private static void Check(CorpusPartial p, string name, CorpusPartial first, SortedDictionary<string, string> identity, int index)
    {
        string firstName = first.Origin ?? "partial #0";
        if (p.Measure != first.Measure)
        {
            throw new InvalidFileException(name, $"a '{PartialFile.KindName(p.Measure)}' partial cannot be merged with '{PartialFile.KindName(first.Measure)}' partials ({firstName}).");
        }

        if (p.Version != first.Version)
        {
            throw new InvalidFileException(name, $"a partial of format version {p.Version} cannot be merged with version {first.Version} partials ({firstName}): rerun the older shards with this version of gpuinfo.");
        }

        if (p.Parts != 1 && (index > 0 || first != p))
        {
            throw new InvalidFileException(name, $"it already merges {p.Parts} shards; merge the shard partials themselves.");
        }

        if (p.Shard.Count != first.Shard.Count)
        {
            throw new InvalidFileException(name, $"shard {p.Shard} belongs to a run of {p.Shard.Count} shards, but {firstName} to one of {first.Shard.Count}.");
        }

        var other = PartialFile.Identity(p);
        foreach (var key in identity.Keys.Union(other.Keys).Order(StringComparer.Ordinal))
        {
            string a = identity.GetValueOrDefault(key, "(none)"), b = other.GetValueOrDefault(key, "(none)");
            if (a != b)
            {
                throw new InvalidFileException(name, $"{key}{WhichFile(key, p)} is {b} here but {a} in {firstName}{WhichFile(key, first)}: partials of different sources or options cannot be merged.");
            }
        }

        long rows = p.Sources[0].Rows;
        var (start, count) = p.Shard.Range(rows);
        if (p.Parts == 1 && (p.FirstRow != start || p.RowCount != count))
        {
            throw new InvalidFileException(name, $"shard {p.Shard} covers rows [{p.FirstRow}, {p.FirstRow + p.RowCount}), not [{start}, {start + count}) of {rows}.");
        }
    }
}
