namespace GpuInfo;

/// <summary>Totals of a cross-entropy call, in float64.</summary>
public sealed record CrossEntropyResult
{
    /// <summary>The loss under the requested reduction (Σ for None and Sum, the weighted mean for Mean; NaN for Mean when <see cref="WeightSum"/> is 0).</summary>
    public double Loss { get; init; }

    /// <summary>Σ loss_i over scored rows (nats).</summary>
    public double Sum { get; init; }

    /// <summary>Σ w_{y_i} over scored rows: the mean's denominator (the scored count when unweighted).</summary>
    public double WeightSum { get; init; }

    /// <summary>Rows whose target is not the ignore index.</summary>
    public long ScoredRows { get; init; }

    /// <summary>Rows whose target is the ignore index (not scored).</summary>
    public long IgnoredRows { get; init; }
}
