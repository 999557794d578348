namespace GpuInfo;

/// <summary>
/// Mergeable calibration totals of a model's top-1 predictions over scored tokens: the confidence
/// (the largest probability of softmax(z/T)) falls into one of <see cref="Count"/> equal-width bins
/// over [0, 1] (bin k holds [k/B, (k+1)/B), the last also 1), each keeping its tokens, its correct
/// top-1 predictions and the exact sum of its confidences. Expected and maximum calibration error
/// follow torchmetrics' <c>MulticlassCalibrationError</c> (norm "l1" and "max", 15 bins).
/// </summary>
public sealed class CalibrationBins
{
    /// <summary>The bins (torchmetrics' default).</summary>
    public const int Count = 15;

    private readonly long[] _tokens = new long[Count];
    private readonly long[] _correct = new long[Count];
    private readonly ExactSum[] _confidence = new ExactSum[Count];

    /// <summary>Tokens added.</summary>
    public long Tokens { get; private set; }

    /// <summary>Tokens per bin.</summary>
    public IReadOnlyList<long> BinTokens => _tokens;

    /// <summary>Correct top-1 predictions per bin.</summary>
    public IReadOnlyList<long> BinCorrect => _correct;

    /// <summary>Σ confidence per bin.</summary>
    public IReadOnlyList<double> BinConfidenceSums => [.. _confidence.Select(c => c.Value)];

    /// <summary>The fraction of tokens whose top-1 prediction is correct (NaN when none).</summary>
    public double Accuracy => (double)_correct.Sum() / Tokens;

    /// <summary>Mean confidence over all tokens (NaN when none).</summary>
    public double MeanConfidence => _confidence.Aggregate(default(ExactSum), (a, c) => { a.Add(in c); return a; }).Value / Tokens;

    /// <summary>Expected calibration error: Σ_k (n_k / N) |accuracy_k − confidence_k| (NaN when no token).</summary>
    public double ExpectedCalibrationError => Tokens == 0 ? double.NaN
        : Enumerable.Range(0, Count).Where(k => _tokens[k] > 0).Sum(k => Math.Abs(_correct[k] - _confidence[k].Value) / Tokens);

    /// <summary>Maximum calibration error: the largest |accuracy_k − confidence_k| over bins holding tokens (NaN when none).</summary>
    public double MaximumCalibrationError => Tokens == 0 ? double.NaN
        : Enumerable.Range(0, Count).Where(k => _tokens[k] > 0).Max(k => Math.Abs(_correct[k] - _confidence[k].Value) / _tokens[k]);

    /// <summary>The bin a confidence falls into.</summary>
    public static int BinOf(double confidence) => Math.Clamp((int)(confidence * Count), 0, Count - 1);

    /// <summary>Per bin: its range, tokens, mean confidence and accuracy (NaN for an empty bin): a reliability diagram's points.</summary>
    public IEnumerable<(double Low, double High, long Tokens, double Confidence, double Accuracy)> Bins() =>
        Enumerable.Range(0, Count).Select(k => ((double)k / Count, (double)(k + 1) / Count, _tokens[k],
            _confidence[k].Value / _tokens[k], (double)_correct[k] / _tokens[k]));

    internal void Add(double confidence, bool correct)
    {
        int k = BinOf(confidence);
        _tokens[k]++;
        _correct[k] += correct ? 1 : 0;
        _confidence[k].Add(confidence);
        Tokens++;
    }

    public void Merge(CalibrationBins other)
    {
        ArgumentNullException.ThrowIfNull(other);
        for (int k = 0; k < Count; k++)
        {
            _tokens[k] += other._tokens[k];
            _correct[k] += other._correct[k];
            _confidence[k].Add(in other._confidence[k]);
        }

        Tokens += other.Tokens;
    }

    /// <summary>The exact confidence sums, for partial files.</summary>
    internal IReadOnlyList<ExactSum> ConfidenceSums => _confidence;

    /// <summary>Rebuilds bins saved by a shard, checking that they are counts of one set of tokens.</summary>
    /// <exception cref="ArgumentException">Not <see cref="Count"/> bins, negative counts, more correct than tokens, or a confidence sum outside [k/B, (k+1)/B] per token.</exception>
    internal static CalibrationBins Restore(IReadOnlyList<long> tokens, IReadOnlyList<long> correct, IReadOnlyList<ExactSum> confidence)
    {
        if (tokens.Count != Count || correct.Count != Count || confidence.Count != Count)
        {
            throw new ArgumentException($"calibration needs {Count} bins of tokens, correct predictions and confidence sums.", nameof(tokens));
        }

        var bins = new CalibrationBins();
        for (int k = 0; k < Count; k++)
        {
            double sum = confidence[k].Value;
            if (tokens[k] < 0 || correct[k] < 0 || correct[k] > tokens[k]
                || !(sum >= tokens[k] * (double)k / Count * (1 - 1e-12)) || sum > tokens[k] * (double)(k + 1) / Count * (1 + 1e-12))
            {
                throw new ArgumentException($"calibration bin {k} is inconsistent (tokens {tokens[k]}, correct {correct[k]}, confidence sum {sum}).", nameof(tokens));
            }

            bins._tokens[k] = tokens[k];
            bins._correct[k] = correct[k];
            bins._confidence[k] = confidence[k];
            bins.Tokens += tokens[k];
        }

        return bins;
    }
}
