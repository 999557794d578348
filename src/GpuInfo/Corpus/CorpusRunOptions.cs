namespace GpuInfo.Corpus;

/// <summary>Receives a measure's per-row values for rows [firstRow, firstRow + values.Length), in row order.</summary>
public delegate void RowValuesHandler(long firstRow, ReadOnlySpan<float> values);

/// <summary>Receives a class index per row for rows [firstRow, firstRow + classes.Length), in row order.</summary>
public delegate void RowClassesHandler(long firstRow, ReadOnlySpan<int> classes);

/// <summary>How a corpus run streams its source: which shard, chunk size, progress, per-row values, where the partial goes.</summary>
public sealed record CorpusRunOptions
{
    /// <summary>The share of rows to run (default all).</summary>
    public Shard Shard { get; init; } = Shard.All;

    /// <summary>
    /// Bytes of row values per chunk, all sources together; memory holds two chunks. Null (the
    /// default) lets the engines choose (<see cref="InfoEngine.CorpusChunkBytesPerSource"/> per source).
    /// </summary>
    public long? ChunkBytes { get; init; }

    /// <summary>Told after every chunk, on the calling thread.</summary>
    public IProgress<CorpusProgress>? Progress { get; init; }

    /// <summary>
    /// Per-row values, on the calling thread: for an evaluation each row's <see cref="EvaluationPerRow"/>,
    /// for a comparison each row's <see cref="ComparisonPerRow"/>.
    /// </summary>
    public RowValuesHandler? PerRow { get; init; }

    /// <summary>
    /// An evaluation's top-1 class of each row (the first of equal largest logits, as <c>torch.argmax</c>), on the
    /// calling thread, after <see cref="PerRow"/>'s values of the same rows: with each row's target, whether the
    /// model's greedy choice is the target (lm-evaluation-harness's <c>is_greedy</c>). A comparison refuses it.
    /// </summary>
    public RowClassesHandler? PerRowArgMax { get; init; }

    /// <summary>The value an evaluation gives <see cref="PerRow"/> for each row (default the loss).</summary>
    public EvaluationValue EvaluationPerRow { get; init; } = EvaluationValue.Loss;

    /// <summary>The value a comparison gives <see cref="PerRow"/> for each row (default KL(base||test)).</summary>
    public ComparisonValue ComparisonPerRow { get; init; } = ComparisonValue.Kl;

    /// <summary>
    /// For each k (distinct, >= 1): an evaluation counts the scored tokens whose target is among the
    /// k largest logits (<see cref="InfoEngine.TargetRanks"/>); a comparison measures how far the two
    /// models' top-k sets overlap and how often the base's top-1 is in the test's top k
    /// (<see cref="InfoEngine.TopKAgreement"/>). Both are host passes over each row.
    /// </summary>
    public IReadOnlyList<int>? TopK { get; init; }

    /// <summary>
    /// Equal-width bins of the top-1 confidence for the calibration errors (default
    /// <see cref="GpuInfo.CalibrationBins.DefaultBins"/>, torchmetrics' 15; see <see cref="GpuInfo.CalibrationBins"/>).
    /// </summary>
    public int CalibrationBins { get; init; } = GpuInfo.CalibrationBins.DefaultBins;

    /// <summary>When set, the partial is saved here (atomically) once the run completes; a failed or cancelled run leaves none.</summary>
    public string? PartialPath { get; init; }

    internal void Validate()
    {
        if (Shard.Count < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Shard), Shard, "a shard must be made with new Shard(index, count) (default(Shard) is none).");
        }

        if (TopK is { } topK && (topK.Count == 0 || topK.Any(k => k < 1) || topK.Distinct().Count() != topK.Count))
        {
            throw new ArgumentOutOfRangeException(nameof(TopK), string.Join(",", topK), "top-k needs one or more distinct k >= 1.");
        }

        if (CalibrationBins is < 1 or > GpuInfo.CalibrationBins.MaxBins)
        {
            throw new ArgumentOutOfRangeException(nameof(CalibrationBins), CalibrationBins, $"calibration needs 1 to {GpuInfo.CalibrationBins.MaxBins} bins.");
        }

        if (!Enum.IsDefined(EvaluationPerRow))
        {
            throw new ArgumentOutOfRangeException(nameof(EvaluationPerRow), EvaluationPerRow, "not an evaluation value.");
        }

        if (!Enum.IsDefined(ComparisonPerRow))
        {
            throw new ArgumentOutOfRangeException(nameof(ComparisonPerRow), ComparisonPerRow, "not a comparison value.");
        }

        if (ChunkBytes is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ChunkBytes), ChunkBytes, "chunk size must be at least 1 byte.");
        }
    }
}
