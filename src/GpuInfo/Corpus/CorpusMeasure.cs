namespace GpuInfo.Corpus;

/// <summary>What a corpus run measured; partials of different measures never merge.</summary>
public enum CorpusMeasure
{
    /// <summary>Cross-entropy, perplexity, entropy and top-1 accuracy against targets ("eval").</summary>
    Evaluation,

    /// <summary>A test model's rows against a base model's: KL, JS, top-1 agreement, and with targets both NLLs and Δp ("compare").</summary>
    Comparison,
}
