namespace GpuInfo;

public sealed partial class InfoEngine
{
    /// <summary>log Σ_j exp(x_j / T) per row.</summary>
    /// <exception cref="ArgumentException">Wrong destination length or temperature.</exception>
    /// <exception cref="InvalidInputException">A row holds NaN or +inf, or is all -inf.</exception>
    public void LogSumExp(Logits logits, Span<float> destination, float temperature = 1f)
    {
        Guard.Temperature(temperature);
        Guard.Length(destination, logits.Rows, nameof(destination));
        ScoreCore(logits, default, Params(logits.Vocab, temperature), null, new ScoreSpans { Lse = destination }, temperature);
    }
}
