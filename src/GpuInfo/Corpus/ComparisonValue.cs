namespace GpuInfo.Corpus;

/// <summary>Which per-row value a comparison hands to <see cref="CorpusRunOptions.PerRow"/>.</summary>
public enum ComparisonValue
{
    /// <summary>KL(base||test), nats.</summary>
    Kl,

    /// <summary>KL(test||base), nats.</summary>
    ReverseKl,

    /// <summary>Jensen-Shannon divergence, nats.</summary>
    JensenShannon,

    /// <summary>Total variation distance ½Σ|p − q|: 1 minus the probability that speculative sampling accepts the test model's draft.</summary>
    TotalVariation,
}
