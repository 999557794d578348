namespace GpuInfo;

/// <summary>Which KL divergence between P (first logits) and Q (second logits).</summary>
public enum KlDirection
{
    /// <summary>KL(P||Q) = Σ p (log p - log q).</summary>
    Forward,

    /// <summary>KL(Q||P) = Σ q (log q - log p).</summary>
    Reverse,
}
