namespace GpuInfo;

public sealed partial class InfoEngine
{
    /// <summary>
    /// Total variation distance per row, ½Σ|p − q| with p = softmax(p/T), q = softmax(q/T), in [0, 1]:
    /// 1 − TV is the probability that speculative sampling accepts a token drafted from q for a target
    /// p (Leviathan et al. 2023), so its mean is the expected acceptance rate.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes differ, bad temperature or destination length.</exception>
    /// <exception cref="InvalidInputException">A row of either input holds NaN/+inf or is all -inf.</exception>
    public void TotalVariation(Logits p, Logits q, Span<float> destination, float temperature = 1f)
    {
        Guard.Length(destination, p.Rows, nameof(destination));
        CompareCore(p, q, default, temperature, new CompareSpans { TotalVariation = destination });
    }
}
