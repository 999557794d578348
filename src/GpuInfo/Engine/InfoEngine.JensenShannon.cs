namespace GpuInfo;

public sealed partial class InfoEngine
{
    /// <summary>
    /// Jensen-Shannon divergence per row, ½KL(P||M) + ½KL(Q||M) with M = (P+Q)/2, in nats (at most ln 2).
    /// </summary>
    /// <exception cref="ArgumentException">Shapes differ, bad temperature or destination length.</exception>
    /// <exception cref="InvalidInputException">A row of either input holds NaN/+inf or is all -inf.</exception>
    public void JensenShannon(Logits p, Logits q, Span<float> destination, float temperature = 1f)
    {
        Guard.Length(destination, p.Rows, nameof(destination));
        CompareCore(p, q, default, temperature, new CompareSpans { JensenShannon = destination });
    }
}
