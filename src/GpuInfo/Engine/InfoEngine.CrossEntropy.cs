namespace GpuInfo;

public sealed partial class InfoEngine
{
    /// <summary>
    /// Cross-entropy per row with PyTorch's semantics (ignore index, label smoothing, class weights,
    /// reductions) plus z-loss and temperature; see <see cref="CrossEntropyOptions"/>.
    /// </summary>
    /// <param name="perRowLoss">Optional: receives loss_i (0 for ignored rows).</param>
    /// <exception cref="ArgumentException">Bad options or span lengths.</exception>
    /// <exception cref="InvalidInputException">A target is out of range, or a row holds NaN/+inf or is all -inf.</exception>
    public CrossEntropyResult CrossEntropy(Logits logits, Targets targets, CrossEntropyOptions? options = null, Span<float> perRowLoss = default) =>
        CrossEntropyCore(logits, targets, options, perRowLoss, default, inPlace: false);

    /// <summary>
    /// Cross-entropy and its gradient w.r.t. the logits in one launch: softmax minus the smoothed,
    /// weighted one-hot, divided by T and scaled for the reduction (1/Σw_y for mean); 0 for ignored rows.
    /// </summary>
    /// <param name="gradient">Receives d loss / d x, shaped like the logits (float32).</param>
    public CrossEntropyResult CrossEntropyWithGradient(Logits logits, Targets targets, Span<float> gradient,
        CrossEntropyOptions? options = null, Span<float> perRowLoss = default)
    {
        if (gradient.Length != logits.ElementCount)
        {
            Guard.Throw(nameof(gradient), $"expected {logits.ElementCount} values (rows × vocab), got {gradient.Length}.");
        }

        return CrossEntropyCore(logits, targets, options, perRowLoss, gradient, inPlace: false);
    }

    /// <summary>As <see cref="CrossEntropyWithGradient"/>, overwriting float32 logits with their gradient.</summary>
    public CrossEntropyResult CrossEntropyWithGradientInPlace(Span<float> logits, int vocab, Targets targets,
        CrossEntropyOptions? options = null, Span<float> perRowLoss = default) =>
        CrossEntropyCore(Logits.Float32(logits, vocab, nameof(logits)), targets, options, perRowLoss, default, inPlace: true);

    private CrossEntropyResult CrossEntropyCore(in Logits logits, in Targets targets, CrossEntropyOptions? options,
        Span<float> perRowLoss, Span<float> gradient, bool inPlace)
    {
        var o = options ?? new CrossEntropyOptions();
        o.Validate(logits.Vocab);
        Guard.OptionalLength(perRowLoss, logits.Rows, nameof(perRowLoss));
        int rows = Guard.RowsFitInt(logits.Rows, nameof(logits));
        var validated = TargetValidator.Validate(targets, rows, logits.Vocab, o.IgnoreIndex);
        float[]? lossRent = perRowLoss.IsEmpty ? System.Buffers.ArrayPool<float>.Shared.Rent(Math.Max(1, rows)) : null;
        try
        {
            var loss = lossRent is null ? perRowLoss : lossRent.AsSpan(0, rows);
            var (scored, weightSum) = TargetValidator.Denominator(validated.AsSpan(0, rows), o.ClassWeights);
            var ce = CrossEntropyParams(logits.Vocab, o, weightSum);
            var spans = new ScoreSpans { Loss = loss, Gradient = gradient, GradientInPlace = inPlace };
            ScoreCore(logits, validated.AsSpan(0, rows), ce, o.ClassWeights, spans, o.Temperature);
            double sum = 0;
            foreach (float l in loss)
            {
                sum += l;
            }

            return new CrossEntropyResult
            {
                Sum = sum,
                WeightSum = weightSum,
                ScoredRows = scored,
                IgnoredRows = rows - scored,
                // Mean over Σw_y = 0 (no row scored, or every scored target of weight 0) is NaN, as in
                // PyTorch: not sum/0, which is +inf with label smoothing.
                Loss = o.Reduction != Reduction.Mean ? sum : weightSum > 0 ? sum / weightSum : double.NaN,
            };
        }
        finally
        {
            TargetValidator.Return(validated);
            if (lossRent is not null)
            {
                System.Buffers.ArrayPool<float>.Shared.Return(lossRent);
            }
        }
    }

    private static Kernels.CrossEntropyParams CrossEntropyParams(int vocab, CrossEntropyOptions o, double weightSum)
    {
        double classWeightSum = 0;
        if (o.ClassWeights is { } w)
        {
            foreach (float v in w)
            {
                classWeightSum += v;
            }
        }

        var ce = Params(vocab, o.Temperature);
        ce.LabelSmoothing = o.LabelSmoothing;
        ce.ZLoss = o.ZLoss;
        ce.HasWeights = o.ClassWeights is null ? 0 : 1;
        ce.WeightSum = o.ClassWeights is null ? vocab : (float)classWeightSum;
        // Mean over Σw_y = 0: the scored rows' gradient is NaN, as PyTorch's (ignored rows keep their 0).
        ce.GradientScale = o.Reduction != Reduction.Mean ? 1f : weightSum > 0 ? (float)(1.0 / weightSum) : float.NaN;
        return ce;
    }
}
