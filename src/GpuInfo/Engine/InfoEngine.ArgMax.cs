namespace GpuInfo;

public sealed partial class InfoEngine
{
    /// <summary>Index of the largest logit per row; the first one on ties, as torch.argmax.</summary>
    /// <exception cref="ArgumentException">Wrong destination length.</exception>
    /// <exception cref="InvalidInputException">A row holds NaN or +inf, or is all -inf.</exception>
    public void ArgMax(Logits logits, Span<int> destination)
    {
        Guard.Length(destination, logits.Rows, nameof(destination));
        ScoreCore(logits, default, Params(logits.Vocab, 1f), null, new ScoreSpans { ArgMax = destination }, 1f);
    }
}
