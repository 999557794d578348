namespace GpuInfo;

public sealed partial class InfoEngine
{
    /// <summary>Entropy H = -Σ p log p of softmax(x / T) per row, in nats.</summary>
    /// <exception cref="ArgumentException">Wrong destination length or temperature.</exception>
    /// <exception cref="InvalidInputException">A row holds NaN or +inf, or is all -inf.</exception>
    public void Entropy(Logits logits, Span<float> destination, float temperature = 1f)
    {
        Guard.Temperature(temperature);
        Guard.Length(destination, logits.Rows, nameof(destination));
        ScoreCore(logits, default, Params(logits.Vocab, temperature), null, new ScoreSpans { Entropy = destination }, temperature);
    }
}
