using GpuInfo.Formats;

namespace GpuInfo.Corpus;

/// <summary>
/// Merges the shard partials of one run: checks that they are one run (same measure, sources,
/// options and shard count; every shard exactly once, covering its rows), then adds them in shard
/// order. The sums are exact, so the result is bit for bit that of one run over all rows.
/// </summary>
internal static class PartialMerge
{
    public static CorpusPartial Merge(IEnumerable<CorpusPartial> partials)
    {
        ArgumentNullException.ThrowIfNull(partials);
        var list = partials.ToList();
        if (list.Count == 0)
        {
            throw new ArgumentException("there are no partials to merge.", nameof(partials));
        }

        var first = list[0];
        var identity = PartialFile.Identity(first);
        foreach (var p in list)
        {
            if (p.Measure != first.Measure)
            {
                throw Refuse(p, list, $"a '{PartialFile.KindName(p.Measure)}' partial cannot be merged with '{PartialFile.KindName(first.Measure)}' partials ({Name(first, list)}).");
            }

            if (p.Parts != 1 && list.Count > 1)
            {
                throw Refuse(p, list, $"it already merges {p.Parts} shards; merge the shard partials themselves.");
            }

            if (p.Shard.Count != first.Shard.Count)
            {
                throw Refuse(p, list, $"shard {p.Shard} belongs to a run of {p.Shard.Count} shards, but {Name(first, list)} to one of {first.Shard.Count}.");
            }

            var other = PartialFile.Identity(p);
            foreach (var key in identity.Keys.Union(other.Keys).Order(StringComparer.Ordinal))
            {
                string a = identity.GetValueOrDefault(key, "(none)"), b = other.GetValueOrDefault(key, "(none)");
                if (a != b)
                {
                    throw Refuse(p, list, $"{key} is {b} here but {a} in {Name(first, list)}: partials of different sources or options cannot be merged.");
                }
            }

            long rows = p.Sources[0].Rows;
            var (start, count) = p.Shard.Range(rows);
            if (p.Parts == 1 && (p.FirstRow != start || p.RowCount != count))
            {
                throw Refuse(p, list, $"shard {p.Shard} covers rows [{p.FirstRow}, {p.FirstRow + p.RowCount}), not [{start}, {start + count}) of {rows}.");
            }
        }

        if (list.Count == 1 && first.Parts > 1)
        {
            return first;
        }

        var byIndex = new CorpusPartial?[first.Shard.Count];
        foreach (var p in list)
        {
            if (byIndex[p.Shard.Index] is { } seen)
            {
                throw Refuse(p, list, $"shard {p.Shard} is also in {Name(seen, list)}.");
            }

            byIndex[p.Shard.Index] = p;
        }

        var missing = Enumerable.Range(0, byIndex.Length).Where(i => byIndex[i] is null).ToList();
        if (missing.Count > 0)
        {
            string shown = string.Join(", ", missing.Take(8).Select(i => $"{i}/{byIndex.Length}")) + (missing.Count > 8 ? $" and {missing.Count - 8} more" : "");
            throw Refuse(first, list, $"the run has {byIndex.Length} shards; missing: {shown}.");
        }

        var ordered = byIndex.Select(p => p!).ToList();
        long withoutTarget = 0, rowCount = 0;
        PerplexityAccumulator? evaluation = first.Evaluation is null ? null : new PerplexityAccumulator();
        ComparisonAccumulator? comparison = first.Comparison is null ? null : new ComparisonAccumulator();
        foreach (var p in ordered)
        {
            evaluation?.Merge(p.Evaluation!);
            comparison?.Merge(p.Comparison!);
            withoutTarget += p.RowsWithoutTarget;
            rowCount += p.RowCount;
        }

        return new CorpusPartial(first.Measure, first.Sources, first.Options, Shard.All, 0, rowCount, evaluation, comparison, withoutTarget, ordered.Count);
    }

    private static string Name(CorpusPartial p, List<CorpusPartial> list) => p.Origin ?? $"partial #{list.IndexOf(p)}";

    private static InvalidFileException Refuse(CorpusPartial p, List<CorpusPartial> list, string problem) => new(Name(p, list), problem);
}
