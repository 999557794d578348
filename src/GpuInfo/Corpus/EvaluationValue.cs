namespace GpuInfo.Corpus;

/// <summary>Which per-row value an evaluation hands to <see cref="CorpusRunOptions.PerRow"/>.</summary>
public enum EvaluationValue
{
    /// <summary>The loss, nats (0 for ignored targets, NaN for rows without a target).</summary>
    Loss,

    /// <summary>The entropy of softmax(x/T), nats, for every row.</summary>
    Entropy,

    /// <summary>The top-1 prediction's probability, for every row.</summary>
    Confidence,

    /// <summary>The Brier score Σ_k (p_k − [k = target])² (0 for ignored targets, NaN for rows without a target).</summary>
    Brier,
}
