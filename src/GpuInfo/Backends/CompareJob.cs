namespace GpuInfo.Backends;

/// <summary>
/// One pass over pinned pairs of rows: P (base) and Q (test), same shape, any dtypes. Output
/// addresses of 0 are not requested, except the two log-sum-exps, which are always written.
/// </summary>
internal readonly record struct CompareJob
{
    public RowsView P { get; init; }

    public RowsView Q { get; init; }

    /// <summary>int32 targets, validated; 0 when there are none.</summary>
    public nint Targets { get; init; }

    public int IgnoreIndex { get; init; }

    public float InvTemperature { get; init; }

    public nint LseP { get; init; }

    public nint LseQ { get; init; }

    public nint KlForward { get; init; }

    public nint KlReverse { get; init; }

    public nint JensenShannon { get; init; }

    /// <summary>Total variation distance ½Σ|p − q| per row (formed in the Jensen-Shannon pass).</summary>
    public nint TotalVariation { get; init; }

    public nint EntropyP { get; init; }

    public nint ArgMaxP { get; init; }

    public nint ArgMaxQ { get; init; }

    /// <summary>float32 probability of each side's argmax per row; both or neither.</summary>
    public nint ConfidenceP { get; init; }

    public nint ConfidenceQ { get; init; }

    /// <summary>-log p(y) per row (needs targets; 0 for ignored rows).</summary>
    public nint NllP { get; init; }

    public nint NllQ { get; init; }

    /// <summary>log q(y) - log p(y) per row, formed without cancellation (needs targets; written with NllP).</summary>
    public nint LogRatio { get; init; }

    /// <summary>float32 Brier score of each side against the target per row (needs NllP; 0 for ignored rows); both or neither.</summary>
    public nint BrierP { get; init; }

    public nint BrierQ { get; init; }

    public long Rows => P.Rows;

    public CompareJob Slice(long first, long rows) => this with
    {
        P = P.Slice(first, rows),
        Q = Q.Slice(first, rows),
        Targets = ScoreJob.Offset(Targets, first, 4),
        LseP = ScoreJob.Offset(LseP, first, 4),
        LseQ = ScoreJob.Offset(LseQ, first, 4),
        KlForward = ScoreJob.Offset(KlForward, first, 4),
        KlReverse = ScoreJob.Offset(KlReverse, first, 4),
        JensenShannon = ScoreJob.Offset(JensenShannon, first, 4),
        TotalVariation = ScoreJob.Offset(TotalVariation, first, 4),
        EntropyP = ScoreJob.Offset(EntropyP, first, 4),
        ArgMaxP = ScoreJob.Offset(ArgMaxP, first, 4),
        ArgMaxQ = ScoreJob.Offset(ArgMaxQ, first, 4),
        ConfidenceP = ScoreJob.Offset(ConfidenceP, first, 4),
        ConfidenceQ = ScoreJob.Offset(ConfidenceQ, first, 4),
        NllP = ScoreJob.Offset(NllP, first, 4),
        NllQ = ScoreJob.Offset(NllQ, first, 4),
        LogRatio = ScoreJob.Offset(LogRatio, first, 4),
        BrierP = ScoreJob.Offset(BrierP, first, 4),
        BrierQ = ScoreJob.Offset(BrierQ, first, 4),
    };
}
