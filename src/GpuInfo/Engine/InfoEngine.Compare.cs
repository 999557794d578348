using System.Buffers;

namespace GpuInfo;

/// <summary>Optional per-row outputs of <see cref="InfoEngine.Compare"/>.</summary>
public ref struct ComparisonRows
{
    /// <summary>KL(base||test) per row (nats).</summary>
    public Span<float> Kl;

    /// <summary>KL(test||base) per row (nats).</summary>
    public Span<float> ReverseKl;

    /// <summary>Jensen-Shannon divergence per row (nats).</summary>
    public Span<float> JensenShannon;

    /// <summary>Total variation distance ½Σ|p − q| per row (1 minus a speculative decoder's acceptance probability).</summary>
    public Span<float> TotalVariation;
}

public sealed partial class InfoEngine
{
    /// <summary>
    /// One fused pass comparing test logits with base logits on a chunk of tokens: KL(base||test),
    /// KL(test||base), JS, total variation, top-1 agreement and, with targets, -log p(y) under both and both models'
    /// top-1 calibration, added to <paramref name="totals"/>.
    /// With targets, rows whose target equals <paramref name="ignoreIndex"/> are left out entirely.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes differ, bad temperature or span lengths.</exception>
    /// <exception cref="InvalidInputException">A target is out of range, or a row of either input is invalid.</exception>
    public void Compare(Logits baseLogits, Logits testLogits, ComparisonAccumulator totals, Targets targets = default,
        float temperature = 1f, long ignoreIndex = -100, ComparisonRows perRow = default)
    {
        ArgumentNullException.ThrowIfNull(totals);
        Guard.SameShape(baseLogits, testLogits, nameof(testLogits));
        int rows = Guard.RowsFitInt(baseLogits.Rows, nameof(baseLogits));
        Guard.OptionalLength(perRow.Kl, rows, "perRow.Kl");
        Guard.OptionalLength(perRow.ReverseKl, rows, "perRow.ReverseKl");
        Guard.OptionalLength(perRow.JensenShannon, rows, "perRow.JensenShannon");
        Guard.OptionalLength(perRow.TotalVariation, rows, "perRow.TotalVariation");
        int[]? validated = targets.IsPresent ? TargetValidator.Validate(targets, rows, baseLogits.Vocab, ignoreIndex) : null;
        var floats = ArrayPool<float>.Shared.Rent(Math.Max(1, 11 * rows));
        var ints = ArrayPool<int>.Shared.Rent(Math.Max(1, 2 * rows));
        try
        {
            var kl = perRow.Kl.IsEmpty ? floats.AsSpan(0, rows) : perRow.Kl;
            var js = perRow.JensenShannon.IsEmpty ? floats.AsSpan(rows, rows) : perRow.JensenShannon;
            var reverse = perRow.ReverseKl.IsEmpty ? floats.AsSpan(5 * rows, rows) : perRow.ReverseKl;
            var tv = perRow.TotalVariation.IsEmpty ? floats.AsSpan(10 * rows, rows) : perRow.TotalVariation;
            var spans = new CompareSpans
            {
                KlForward = kl,
                KlReverse = reverse,
                JensenShannon = js,
                TotalVariation = tv,
                ArgMaxP = ints.AsSpan(0, rows),
                ArgMaxQ = ints.AsSpan(rows, rows),
            };
            var y = validated is null ? default : validated.AsSpan(0, rows);
            if (validated is not null)
            {
                spans.NllP = floats.AsSpan(2 * rows, rows);
                spans.NllQ = floats.AsSpan(3 * rows, rows);
                spans.LogRatio = floats.AsSpan(4 * rows, rows);
                spans.ConfidenceP = floats.AsSpan(6 * rows, rows);
                spans.ConfidenceQ = floats.AsSpan(7 * rows, rows);
                spans.BrierP = floats.AsSpan(8 * rows, rows);
                spans.BrierQ = floats.AsSpan(9 * rows, rows);
            }

            CompareCore(baseLogits, testLogits, y, temperature, spans, nameof(baseLogits), nameof(testLogits));

            for (int i = 0; i < rows; i++)
            {
                if (validated is not null && y[i] == TargetValidator.Ignored)
                {
                    continue;
                }

                totals.AddToken(kl[i], reverse[i], js[i], tv[i], spans.ArgMaxP[i] == spans.ArgMaxQ[i]);
                if (validated is not null)
                {
                    totals.AddTarget(spans.NllP[i], spans.NllQ[i], spans.LogRatio[i]);
                    totals.AddCalibration(spans.ConfidenceP[i], spans.ArgMaxP[i] == y[i], spans.BrierP[i], spans.ConfidenceQ[i], spans.ArgMaxQ[i] == y[i], spans.BrierQ[i]);
                }
            }
        }
        finally
        {
            TargetValidator.Return(validated);
            ArrayPool<float>.Shared.Return(floats);
            ArrayPool<int>.Shared.Return(ints);
        }
    }
}
