using System.Runtime.InteropServices;
using System.Buffers;

namespace GpuInfo;

/// <summary>Optional per-row outputs of <see cref="InfoEngine.Evaluate"/>.</summary>
public ref struct EvaluationRows
{
    /// <summary>loss_i (0 for ignored rows).</summary>
    public Span<float> Loss;

    /// <summary>Entropy of softmax(x/T) (nats), for every row.</summary>
    public Span<float> Entropy;

    public Span<int> ArgMax;

    /// <summary>The largest probability of softmax(x/T) (the top-1 prediction's confidence), for every row.</summary>
    public Span<float> Confidence;

    /// <summary>The Brier score Σ_k (p_k − [k = target])² (0 for ignored rows).</summary>
    public Span<float> Brier;

    /// <summary>Throws where two outputs share memory: one span given for two kept only the last one written (the loss read back as the entropy).</summary>
    internal readonly void CheckApart()
    {
        var loss = MemoryMarshal.AsBytes(Loss);
        var entropy = MemoryMarshal.AsBytes(Entropy);
        var argMax = MemoryMarshal.AsBytes(ArgMax);
        var confidence = MemoryMarshal.AsBytes(Confidence);
        var brier = MemoryMarshal.AsBytes(Brier);
        Guard.Apart(loss, "perRow.Loss", entropy, "perRow.Entropy");
        Guard.Apart(loss, "perRow.Loss", argMax, "perRow.ArgMax");
        Guard.Apart(loss, "perRow.Loss", confidence, "perRow.Confidence");
        Guard.Apart(loss, "perRow.Loss", brier, "perRow.Brier");
        Guard.Apart(entropy, "perRow.Entropy", argMax, "perRow.ArgMax");
        Guard.Apart(entropy, "perRow.Entropy", confidence, "perRow.Confidence");
        Guard.Apart(entropy, "perRow.Entropy", brier, "perRow.Brier");
        Guard.Apart(argMax, "perRow.ArgMax", confidence, "perRow.Confidence");
        Guard.Apart(argMax, "perRow.ArgMax", brier, "perRow.Brier");
        Guard.Apart(confidence, "perRow.Confidence", brier, "perRow.Brier");
    }
}

public sealed partial class InfoEngine
{
    /// <summary>
    /// One fused pass for evaluating a model on a chunk of tokens: cross-entropy, entropy, argmax,
    /// the argmax's probability (confidence, for calibration) and the Brier score per row, added to
    /// <paramref name="totals"/> over the scored (non-ignored) rows. Call once per
    /// chunk of a corpus; merge accumulators across shards.
    /// </summary>
    /// <exception cref="ArgumentException">Bad options or span lengths.</exception>
    /// <exception cref="InvalidInputException">A target is out of range, or a row holds NaN/+inf or is all -inf.</exception>
    public void Evaluate(Logits logits, Targets targets, PerplexityAccumulator totals,
        CrossEntropyOptions? options = null, EvaluationRows perRow = default)
    {
        ArgumentNullException.ThrowIfNull(totals);
        var o = options ?? new CrossEntropyOptions();
        o.Validate(logits.Vocab);
        int rows = Guard.RowsFitInt(logits.Rows, nameof(logits));
        Guard.OptionalLength(perRow.Loss, rows, "perRow.Loss");
        Guard.OptionalLength(perRow.Entropy, rows, "perRow.Entropy");
        Guard.OptionalLength(perRow.ArgMax, rows, "perRow.ArgMax");
        Guard.OptionalLength(perRow.Confidence, rows, "perRow.Confidence");
        Guard.OptionalLength(perRow.Brier, rows, "perRow.Brier");

        perRow.CheckApart();
        var validated = TargetValidator.Validate(targets, rows, logits.Vocab, o.IgnoreIndex);
        var floats = ArrayPool<float>.Shared.Rent(Math.Max(1, 4 * rows));
        var ints = ArrayPool<int>.Shared.Rent(Math.Max(1, rows));
        try
        {
            var loss = perRow.Loss.IsEmpty ? floats.AsSpan(0, rows) : perRow.Loss;
            var entropy = perRow.Entropy.IsEmpty ? floats.AsSpan(rows, rows) : perRow.Entropy;
            var argmax = perRow.ArgMax.IsEmpty ? ints.AsSpan(0, rows) : perRow.ArgMax;
            var y = validated.AsSpan(0, rows);
            var (scored, weightSum) = TargetValidator.Denominator(y, o.ClassWeights);
            var ce = CrossEntropyParams(logits.Vocab, o, weightSum);
            var confidence = perRow.Confidence.IsEmpty ? floats.AsSpan(2 * rows, rows) : perRow.Confidence;
            var brier = perRow.Brier.IsEmpty ? floats.AsSpan(3 * rows, rows) : perRow.Brier;
            ScoreCore(logits, y, ce, o.ClassWeights,
                new ScoreSpans { Loss = loss, Entropy = entropy, ArgMax = argmax, Confidence = confidence, Brier = brier }, o.Temperature);

            for (int i = 0; i < rows; i++)
            {
                if (y[i] != TargetValidator.Ignored)
                {
                    totals.AddScored(loss[i], o.ClassWeights is { } w ? w[y[i]] : 1f, entropy[i], argmax[i] == y[i], confidence[i], brier[i]);
                }
            }

            totals.AddIgnored(rows - scored);
        }
        finally
        {
            TargetValidator.Return(validated);
            ArrayPool<float>.Shared.Return(floats);
            ArrayPool<int>.Shared.Return(ints);
        }
    }
}
