namespace GpuInfo;

public sealed partial class InfoEngine
{
    /// <summary>
    /// KL divergence per row between P = softmax(p/T) and Q = softmax(q/T), in nats, with 0·log 0 = 0:
    /// KL(P||Q) for <see cref="KlDirection.Forward"/>, KL(Q||P) for Reverse. Matches PyTorch's
    /// <c>kl_div(log_softmax(q), log_softmax(p), log_target=True, reduction='none').sum(-1)</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes differ, bad direction, temperature or destination length.</exception>
    /// <exception cref="InvalidInputException">A row of either input holds NaN/+inf or is all -inf.</exception>
    public void KlDivergence(Logits p, Logits q, Span<float> destination, KlDirection direction = KlDirection.Forward, float temperature = 1f)
    {
        if (!Enum.IsDefined(direction))
        {
            throw new ArgumentOutOfRangeException(nameof(direction), direction, "not a KlDirection.");
        }

        Guard.Length(destination, p.Rows, nameof(destination));
        var spans = direction == KlDirection.Forward
            ? new CompareSpans { KlForward = destination }
            : new CompareSpans { KlReverse = destination };
        CompareCore(p, q, default, temperature, spans);
    }
}
