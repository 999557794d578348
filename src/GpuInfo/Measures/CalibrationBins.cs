namespace GpuInfo;

/// <summary>
/// Mergeable calibration totals of a model's top-1 predictions over scored tokens, as torchmetrics'
/// <c>MulticlassCalibrationError</c> bins them: the confidence (the largest probability of
/// softmax(z/T), a float32) falls into one of <see cref="BinCount"/> equal-width bins over [0, 1)
/// (bin k holds [k/B, (k+1)/B)), and a confidence of exactly 1 into a slot of its own (torchmetrics'
/// <c>bucketize(..., right=True)</c> puts it past the last edge); each slot keeps its tokens, its
/// correct top-1 predictions and the exact sum of its confidences. Expected, maximum and
/// root-mean-square calibration error are torchmetrics' norms "l1", "max" and "l2" over those slots.
/// The same tokens' Brier scores, Σ_k (p_k − [k = target])² over the whole distribution, are summed
/// beside the bins (<see cref="BrierScore"/>).
/// </summary>
public sealed class CalibrationBins
{
    /// <summary>The bins without a count given (torchmetrics' default).</summary>
    public const int DefaultBins = 15;

    /// <summary>The most bins a run may ask for.</summary>
    public const int MaxBins = 100_000;

    private readonly long[] _tokens;
    private readonly long[] _correct;
    private readonly ExactSum[] _confidence;
    private ExactSum _brier;
    private ExactSum _brierSquared;

    /// <param name="bins">Equal-width bins over [0, 1), 1 to <see cref="MaxBins"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bins"/> is below 1 or above <see cref="MaxBins"/>.</exception>
    public CalibrationBins(int bins = DefaultBins)
    {
        if (bins is < 1 or > MaxBins)
        {
            throw new ArgumentOutOfRangeException(nameof(bins), bins, $"calibration needs 1 to {MaxBins} bins.");
        }

        BinCount = bins;
        _tokens = new long[bins + 1];
        _correct = new long[bins + 1];
        _confidence = new ExactSum[bins + 1];
    }

    /// <summary>B, the equal-width bins; the slots are B + 1 (the last holds confidences of exactly 1).</summary>
    public int BinCount { get; }

    /// <summary>Tokens added.</summary>
    public long Tokens { get; private set; }

    /// <summary>Tokens per slot (B bins, then the confidences of exactly 1).</summary>
    public IReadOnlyList<long> BinTokens => _tokens;

    /// <summary>Correct top-1 predictions per slot.</summary>
    public IReadOnlyList<long> BinCorrect => _correct;

    /// <summary>Σ confidence per slot.</summary>
    public IReadOnlyList<double> BinConfidenceSums => [.. _confidence.Select(c => c.Value)];

    /// <summary>The fraction of tokens whose top-1 prediction is correct (NaN when none).</summary>
    public double Accuracy => (double)_correct.Sum() / Tokens;

    /// <summary>Mean confidence over all tokens (NaN when none).</summary>
    public double MeanConfidence => _confidence.Aggregate(default(ExactSum), (a, c) => { a.Add(in c); return a; }).Value / Tokens;

    /// <summary>Expected calibration error: Σ_k (n_k / N) |accuracy_k − confidence_k| (NaN when no token).</summary>
    public double ExpectedCalibrationError => Tokens == 0 ? double.NaN : Used.Sum(k => Math.Abs(_correct[k] - _confidence[k].Value) / Tokens);

    /// <summary>Maximum calibration error: the largest |accuracy_k − confidence_k| over slots holding tokens (NaN when none).</summary>
    public double MaximumCalibrationError => Tokens == 0 ? double.NaN : Used.Max(k => Math.Abs(Gap(k)));

    /// <summary>Root-mean-square calibration error: sqrt(Σ_k (n_k / N) (accuracy_k − confidence_k)²) (NaN when no token).</summary>
    public double RootMeanSquareCalibrationError => Tokens == 0 ? double.NaN : Math.Sqrt(Used.Sum(k => (double)_tokens[k] / Tokens * Gap(k) * Gap(k)));

    private IEnumerable<int> Used => Enumerable.Range(0, BinCount + 1).Where(k => _tokens[k] > 0);

    private double Gap(int k) => (_correct[k] - _confidence[k].Value) / _tokens[k];

    /// <summary>
    /// Whether every token came with its Brier score (false for totals read from a partial of format
    /// version 6, which did not keep them).
    /// </summary>
    public bool HasBrierScore { get; private set; } = true;

    /// <summary>
    /// The mean Brier score, (1/N) Σ_i Σ_k (p_ik − [k = y_i])², in [0, 2], as lm-evaluation-harness's
    /// <c>brier_score</c> defines it (NaN when no token, or when <see cref="HasBrierScore"/> is false).
    /// </summary>
    public double BrierScore => HasBrierScore ? _brier.Value / Tokens : double.NaN;

    /// <summary>The standard error of <see cref="BrierScore"/> over the tokens (NaN below two tokens, or where unknown).</summary>
    public double BrierScoreError => HasBrierScore ? Uncertainty.Mean(_brier.Value, _brierSquared.Value, Tokens).Error : double.NaN;

    /// <summary>The exact Σ Brier and Σ Brier², for partial files; null where unknown.</summary>
    internal (ExactSum Sum, ExactSum SquaredSum)? BrierSums => HasBrierScore ? (_brier, _brierSquared) : null;

    /// <summary>The slot a confidence falls into: bin ⌊c·B⌋ for c &lt; 1, slot B for exactly 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The confidence is not a probability (below 0, above 1, NaN): it was put in the first or last slot.</exception>
    public int BinOf(double confidence) => confidence is >= 0 and <= 1 ? Slot(confidence)
        : throw new ArgumentOutOfRangeException(nameof(confidence), confidence, "a confidence is a probability, 0 to 1.");

    /// <summary><see cref="BinOf"/> for the kernels' confidences, whose float32 rounding may pass 1 by an ulp (the last slot, as torchmetrics').</summary>
    private int Slot(double confidence) => confidence >= 1 ? BinCount : Math.Clamp((int)(confidence * BinCount), 0, BinCount - 1);

    /// <summary>Per slot: its range (the last one [1, 1]), tokens, mean confidence and accuracy (NaN for an empty slot): a reliability diagram's points.</summary>
    public IEnumerable<(double Low, double High, long Tokens, double Confidence, double Accuracy)> Bins() =>
        Enumerable.Range(0, BinCount + 1).Select(k => ((double)k / BinCount, Math.Min(1, (double)(k + 1) / BinCount), _tokens[k],
            _confidence[k].Value / _tokens[k], (double)_correct[k] / _tokens[k]));

    /// <summary>
    /// Adds a token's confidence, taken as float32 (as torchmetrics takes it: a confidence that rounds to
    /// 1 is 1), and its Brier score (NaN where unknown: the Brier score then is).
    /// </summary>
    internal void Add(double confidence, bool correct, double brier)
    {
        if (double.IsNaN(brier))
        {
            HasBrierScore = false;
        }

        _brier.Add(brier);
        _brierSquared.Add(brier * brier);
        double c = (float)confidence;
        int k = Slot(c);
        _tokens[k]++;
        _correct[k] += correct ? 1 : 0;
        _confidence[k].Add(c);
        Tokens++;
    }

    /// <summary>Refuses, before anything is merged, calibrations of different bin counts (either may be unknown).</summary>
    internal static void ThrowIfOtherCount(CalibrationBins? mine, CalibrationBins? other, string paramName)
    {
        if (mine is not null && other is not null && mine.BinCount != other.BinCount)
        {
            throw new ArgumentException($"calibration bins of {other.BinCount} bins cannot be merged into {mine.BinCount} bins.", paramName);
        }
    }

    /// <exception cref="ArgumentException"><paramref name="other"/> has another bin count.</exception>
    public void Merge(CalibrationBins other)
    {
        ArgumentNullException.ThrowIfNull(other);
        ThrowIfOtherCount(this, other, nameof(other));

        for (int k = 0; k <= BinCount; k++)
        {
            _tokens[k] += other._tokens[k];
            _correct[k] += other._correct[k];
            _confidence[k].Add(in other._confidence[k]);
        }

        _brier.Add(in other._brier);
        _brierSquared.Add(in other._brierSquared);
        HasBrierScore &= other.HasBrierScore;
        Tokens += other.Tokens;
    }

    /// <summary>The exact confidence sums, for partial files.</summary>
    internal IReadOnlyList<ExactSum> ConfidenceSums => _confidence;

    /// <summary>Rebuilds bins saved by a shard (B + 1 slots each), checking that they are counts of one set of tokens.</summary>
    /// <param name="brier">Σ Brier and Σ Brier² over the tokens; null where they were not kept (the Brier score is then unknown).</param>
    /// <exception cref="ArgumentException">Lists of other lengths or fewer than 2 slots, negative counts, more correct than tokens, a confidence sum outside [k/B, (k+1)/B] per token (exactly 1 in the last slot), or Brier sums outside [0, 2N] and [0, 4N] or at odds with each other (<see cref="SumChecks.Squares"/>).</exception>
    internal static CalibrationBins Restore(IReadOnlyList<long> tokens, IReadOnlyList<long> correct, IReadOnlyList<ExactSum> confidence,
        (ExactSum Sum, ExactSum SquaredSum)? brier)
    {
        int bins = tokens.Count - 1;
        if (bins is < 1 or > MaxBins || correct.Count != tokens.Count || confidence.Count != tokens.Count)
        {
            throw new ArgumentException($"calibration needs 2 to {MaxBins + 1} slots (B bins and the confidences of exactly 1) of tokens, correct predictions and confidence sums, as many of each; got {tokens.Count}, {correct.Count} and {confidence.Count}.", nameof(tokens));
        }

        var restored = new CalibrationBins(bins);
        for (int k = 0; k <= bins; k++)
        {
            double sum = confidence[k].Value;
            double low = Math.Min(1, (double)k / bins), high = Math.Min(1, (double)(k + 1) / bins);
            if (tokens[k] < 0 || correct[k] < 0 || correct[k] > tokens[k]
                || !(sum >= tokens[k] * low * (1 - 1e-12)) || sum > tokens[k] * high * (1 + 1e-12))
            {
                throw new ArgumentException($"calibration bin {k} is inconsistent (tokens {tokens[k]}, correct {correct[k]}, confidence sum {sum}).", nameof(tokens));
            }

            restored._tokens[k] = tokens[k];
            restored._correct[k] = correct[k];
            restored._confidence[k] = confidence[k];
            restored.Tokens += tokens[k];
        }

        if (brier is { } b)
        {
            // A float32 score of a near-certain wrong prediction can round an ulp or two above 2.
            double n = restored.Tokens, sum = b.Sum.Value, squares = b.SquaredSum.Value;
            if (!(sum >= 0 && sum <= 2 * n * (1 + 1e-6) && squares >= 0 && squares <= 4 * n * (1 + 1e-6)))
            {
                throw new ArgumentException($"Brier sums {sum} and {squares} are outside [0, 2N] and [0, 4N] for N = {restored.Tokens} tokens.", nameof(brier));
            }

            SumChecks.Squares("brier_sum", sum, "brier_sq_sum", squares, restored.Tokens);

            (restored._brier, restored._brierSquared) = (b.Sum, b.SquaredSum);
        }
        else
        {
            restored.HasBrierScore = false;
        }

        return restored;
    }
}
