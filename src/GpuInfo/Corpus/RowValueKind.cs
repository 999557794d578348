namespace GpuInfo.Corpus;

/// <summary>What a source's row values are. Every measure treats both alike (softmax of log-probabilities is the distribution itself); the kind is recorded in partials.</summary>
public enum RowValueKind
{
    /// <summary>Unnormalised logits.</summary>
    Logits,

    /// <summary>Log-probabilities (each row's log-sum-exp is about 0).</summary>
    LogProbabilities,
}
