namespace GpuInfo.Corpus;

/// <summary>
/// The mergeable result of a corpus run over one shard: what was measured, over which sources and
/// with which options, which rows, and the exact float64 totals (<see cref="PerplexityAccumulator"/>
/// or <see cref="ComparisonAccumulator"/>). <see cref="Save"/> writes it as a versioned JSON file
/// (docs/partials.md), atomically; <see cref="Merge"/> combines the shards of one run into the totals
/// of the whole, bit for bit what one run gives.
/// </summary>
public sealed class CorpusPartial
{
    /// <summary>The partial file format this library writes (it also reads <see cref="OldestReadableVersion"/> and later).</summary>
    public const int FormatVersion = 8;

    /// <summary>The oldest format version read: version 3 partials lack <c>scored_words</c> (read as none), and their byte counts of a model's text are by the older rule.</summary>
    public const int OldestReadableVersion = 3;

    internal CorpusPartial(CorpusMeasure measure, IReadOnlyList<SourceDescription> sources, IReadOnlyDictionary<string, string> options,
        Shard shard, long firstRow, long rowCount, PerplexityAccumulator? evaluation, ComparisonAccumulator? comparison,
        long rowsWithoutTarget, int parts = 1, string? origin = null, int version = FormatVersion)
    {
        Version = version;
        Measure = measure;
        Sources = sources;
        Options = options;
        Shard = shard;
        FirstRow = firstRow;
        RowCount = rowCount;
        Evaluation = evaluation;
        Comparison = comparison;
        RowsWithoutTarget = rowsWithoutTarget;
        Parts = parts;
        Origin = origin;
    }

    public CorpusMeasure Measure { get; }

    /// <summary>The sources read: one for an evaluation, base then test for a comparison.</summary>
    public IReadOnlyList<SourceDescription> Sources { get; }

    /// <summary>The measure's options, canonically formatted (e.g. "temperature" → "1").</summary>
    public IReadOnlyDictionary<string, string> Options { get; }

    /// <summary>The shard these totals cover (<see cref="Shard.All"/> after a merge).</summary>
    public Shard Shard { get; }

    public long FirstRow { get; }

    public long RowCount { get; }

    /// <summary>The totals of an evaluation; null for a comparison.</summary>
    public PerplexityAccumulator? Evaluation { get; }

    /// <summary>The totals of a comparison; null for an evaluation.</summary>
    public ComparisonAccumulator? Comparison { get; }

    /// <summary>Rows the source gave no target (the last position of each sequence under shift); counted in <see cref="PerplexityAccumulator.Ignored"/>.</summary>
    public long RowsWithoutTarget { get; }

    /// <summary>Targets equal to the ignore index: ignored rows other than those without a target.</summary>
    public long IgnoredTargets => (Evaluation?.Ignored ?? 0) - RowsWithoutTarget;

    /// <summary>How many shard partials these totals combine (1 for one run).</summary>
    public int Parts { get; }

    /// <summary>The file this partial was loaded from, or null.</summary>
    public string? Origin { get; }

    /// <summary>The format version it was read from (<see cref="FormatVersion"/> for one made by a run); partials of different versions are not merged together.</summary>
    public int Version { get; }

    /// <summary>Writes the partial to <paramref name="path"/>: a temporary file beside it, flushed to disk, then renamed over it.</summary>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public void Save(string path) => PartialFile.Save(this, path);

    /// <summary>Reads a partial file.</summary>
    /// <exception cref="Formats.InvalidFileException">Missing, unreadable, malformed, or of another format version; the message names the file.</exception>
    public static CorpusPartial Load(string path) => PartialFile.Load(path);

    /// <summary>
    /// Combines every shard of one run, in any order (the sums are exact), into the totals of the
    /// whole run, reading the partials one at a time. Refuses
    /// (naming the partial's file) partials of different measures, sources or options, shards of
    /// different runs, and a missing or repeated shard.
    /// </summary>
    /// <exception cref="Formats.InvalidFileException">The partials do not make up one run.</exception>
    public static CorpusPartial Merge(IEnumerable<CorpusPartial> partials) => PartialMerge.Merge(partials);
}
