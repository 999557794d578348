namespace GpuInfo;

/// <summary>
/// Mergeable totals of an evaluation: Σ loss, Σ loss², Σ w_y (the token count when unweighted),
/// Σ entropy, Σ entropy², top-1 hits and the top-1 confidences' calibration bins (with the Brier scores) over scored tokens. Sums are exact (<see cref="ExactSum"/>):
/// chunks and shards added or merged in any grouping and order give the same bits as one pass.
/// </summary>
public sealed class PerplexityAccumulator
{
    /// <summary>Totals whose calibration has torchmetrics' default bins (<see cref="CalibrationBins.DefaultBins"/>).</summary>
    public PerplexityAccumulator()
        : this(CalibrationBins.DefaultBins)
    {
    }

    /// <param name="calibrationBins">Equal-width bins of the top-1 confidence (<see cref="CalibrationBins"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 1 bin, or more than <see cref="CalibrationBins.MaxBins"/>.</exception>
    public PerplexityAccumulator(int calibrationBins) => Calibration = new CalibrationBins(calibrationBins);

    private ExactSum _nll;
    private ExactSum _nllSquared;
    private ExactSum _weight;
    private ExactSum _entropy;
    private ExactSum _entropySquared;
    private readonly SortedDictionary<int, long> _topKHits = [];

    /// <summary>Scored tokens (targets not ignored).</summary>
    public long Tokens { get; private set; }

    /// <summary>Tokens skipped because their target is the ignore index.</summary>
    public long Ignored { get; private set; }

    /// <summary>Σ loss_i over scored tokens (nats; w_y-weighted when class weights are used).</summary>
    public double NllSum => _nll.Value;

    /// <summary>Σ loss_i² over scored tokens (for the standard error of the mean).</summary>
    public double NllSquaredSum => _nllSquared.Value;

    /// <summary>Σ w_y over scored tokens: the denominator of the mean.</summary>
    public double WeightSum => _weight.Value;

    /// <summary>Σ H(softmax) over scored tokens (nats).</summary>
    public double EntropySum => _entropy.Value;

    /// <summary>Σ H² over scored tokens.</summary>
    public double EntropySquaredSum => _entropySquared.Value;

    /// <summary>Scored tokens whose argmax equals the target.</summary>
    public long Top1Hits { get; private set; }

    /// <summary>
    /// The calibration of the top-1 predictions (expected, maximum and RMS calibration error); null where
    /// tokens were added without their confidence (<see cref="Add"/>, <see cref="AddTokens"/>, a
    /// partial of format version 5 or older).
    /// </summary>
    public CalibrationBins? Calibration { get; private set; }

    /// <summary>Bytes of text the scored tokens stand for, when the source gave per-token byte counts (else 0).</summary>
    public long ScoredBytes { get; private set; }

    /// <summary>Words of text the scored tokens begin, when the source gave per-token word counts (else 0).</summary>
    public long ScoredWords { get; private set; }

    /// <summary>For each k asked for (a corpus run's <c>TopK</c>), the scored tokens whose target is among the k largest logits.</summary>
    public IReadOnlyDictionary<int, long> TopKHits => _topKHits;

    /// <summary>The fraction of scored tokens whose target is in the top k (k must have been counted).</summary>
    /// <exception cref="ArgumentOutOfRangeException">k was not tracked (not in the run's <c>TopK</c>).</exception>
    public double TopKAccuracy(int k) => (double)Hits(k) / Tokens;

    /// <summary>Standard error of <see cref="TopKAccuracy"/>: sqrt(f(1 − f)/(n − 1)).</summary>
    /// <exception cref="ArgumentOutOfRangeException">k was not tracked (not in the run's <c>TopK</c>).</exception>
    public double TopKAccuracyError(int k) => Uncertainty.Fraction(Hits(k), Tokens);

    private long Hits(int k) => _topKHits.TryGetValue(k, out long hits) ? hits
        : throw new ArgumentOutOfRangeException(nameof(k), k, $"top-{k} was not tracked; the tracked k are {(_topKHits.Count == 0 ? "none (give the run a TopK)" : string.Join(", ", _topKHits.Keys.Order()))}.");

    /// <summary>Mean loss per token (nats); NaN when nothing was scored, as PyTorch's mean.</summary>
    public double MeanNll => NllSum / WeightSum;

    /// <summary>exp(mean NLL).</summary>
    public double Perplexity => Math.Exp(MeanNll);

    /// <summary>Mean NLL in bits: mean NLL / ln 2.</summary>
    public double BitsPerToken => MeanNll / Math.Log(2);

    /// <summary>Mean entropy of the predicted distributions over scored tokens (nats).</summary>
    public double MeanEntropy => EntropySum / Tokens;

    /// <summary>The fraction of scored tokens whose argmax is the target.</summary>
    public double Top1Accuracy => (double)Top1Hits / Tokens;

    /// <summary>SE of the mean NLL, over scored tokens (the unweighted formula; with class weights it treats each weighted loss as one value).</summary>
    public double MeanNllError => Uncertainty.Mean(NllSum, NllSquaredSum, Tokens).Error;

    /// <summary>PPL·SE(NLL), as llama.cpp propagates it.</summary>
    public double PerplexityError => Perplexity * MeanNllError;

    /// <summary>Standard error of <see cref="BitsPerToken"/>.</summary>
    public double BitsPerTokenError => MeanNllError / Math.Log(2);

    /// <summary>Standard error of <see cref="MeanEntropy"/>.</summary>
    public double MeanEntropyError => Uncertainty.Mean(EntropySum, EntropySquaredSum, Tokens).Error;

    /// <summary>Standard error of <see cref="Top1Accuracy"/>: sqrt(f(1 − f)/(n − 1)).</summary>
    public double Top1AccuracyError => Uncertainty.Fraction(Top1Hits, Tokens);

    /// <summary>Bits per byte of the text these tokens encode, as lm-evaluation-harness defines it: Σ NLL / (bytes · ln 2).</summary>
    public double BitsPerByte(long bytes) => Scored(NllSum) / (Positive(bytes, nameof(bytes)) * Math.Log(2));

    /// <summary>Byte perplexity, exp(Σ NLL / bytes) (lm-evaluation-harness).</summary>
    public double BytePerplexity(long bytes) => Math.Exp(Scored(NllSum) / Positive(bytes, nameof(bytes)));

    /// <summary>Word perplexity, exp(Σ NLL / words) (lm-evaluation-harness); <see cref="ScoredWords"/> are the words of the scored tokens when the source counts them.</summary>
    public double WordPerplexity(long words) => Math.Exp(Scored(NllSum) / Positive(words, nameof(words)));

    /// <summary>The rates of a text none of whose tokens was scored are undefined (NaN), as the mean NLL is, not those of a perfect model.</summary>
    private double Scored(double nllSum) => Tokens > 0 ? nllSum : double.NaN;

    private static long Positive(long count, string name) =>
        count > 0 ? count : throw new ArgumentOutOfRangeException(name, count, "the text's size must be at least 1.");

    /// <summary>The exact sums by their partial-file names, in a fixed order.</summary>
    internal IEnumerable<(string Name, ExactSum Sum)> ExactSums =>
    [
        ("nll_sum", _nll), ("nll_sq_sum", _nllSquared), ("weight_sum", _weight),
        ("entropy_sum", _entropy), ("entropy_sq_sum", _entropySquared),
    ];

    /// <summary>Adds totals computed elsewhere (each sum is added exactly as given).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A count is negative, the top-1 hits outnumber the tokens, or a sum is negative or NaN.</exception>
    public void Add(long tokens, long ignored, double nllSum, double weightSum, double entropySum = 0, long top1Hits = 0,
        double nllSquaredSum = 0, double entropySquaredSum = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        ArgumentOutOfRangeException.ThrowIfNegative(ignored);
        ArgumentOutOfRangeException.ThrowIfNegative(top1Hits);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(top1Hits, tokens);
        NotNegative(nllSum, nameof(nllSum));
        NotNegative(weightSum, nameof(weightSum));
        NotNegative(entropySum, nameof(entropySum));
        NotNegative(nllSquaredSum, nameof(nllSquaredSum));
        NotNegative(entropySquaredSum, nameof(entropySquaredSum));
        Calibration = tokens > 0 ? null : Calibration;
        Tokens += tokens;
        Ignored += ignored;
        Top1Hits += top1Hits;
        _nll.Add(nllSum);
        _nllSquared.Add(nllSquaredSum);
        _weight.Add(weightSum);
        _entropy.Add(entropySum);
        _entropySquared.Add(entropySquaredSum);
    }

    /// <summary>Adds per-token negative log-likelihoods (each token weighing 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A loss is negative or NaN (nothing is added).</exception>
    public void AddTokens(ReadOnlySpan<float> nll)
    {
        foreach (float v in nll)
        {
            NotNegative(v, nameof(nll));
        }

        foreach (float v in nll)
        {
            AddScored(v, 1f, 0f, false, double.NaN, double.NaN);
        }
    }

    /// <summary>A loss, entropy, weight or square, or a sum of them: never negative or NaN (a loss of +inf, a target of no probability, is one).</summary>
    private static void NotNegative(double value, string name)
    {
        if (!(value >= 0))
        {
            throw new ArgumentOutOfRangeException(name, value, $"{name} is {value}: losses, entropies, weights and their squares are never negative or NaN.");
        }
    }

    /// <summary>Adds another accumulator's totals (a chunk or shard of the same run); exact, so the order does not matter.</summary>
    /// <exception cref="ArgumentException">The two calibrations have different bin counts (nothing is merged).</exception>
    public void Merge(PerplexityAccumulator other)
    {
        ArgumentNullException.ThrowIfNull(other);
        CalibrationBins.ThrowIfOtherCount(Calibration, other.Calibration, nameof(other));
        foreach (var (k, hits) in other._topKHits)
        {
            AddTopK(k, hits);
        }

        Tokens += other.Tokens;
        Ignored += other.Ignored;
        Top1Hits += other.Top1Hits;
        if (other.Calibration is null)
        {
            Calibration = null;
        }
        else
        {
            Calibration?.Merge(other.Calibration);
        }

        ScoredBytes += other.ScoredBytes;
        ScoredWords += other.ScoredWords;
        _nll.Add(in other._nll);
        _nllSquared.Add(in other._nllSquared);
        _weight.Add(in other._weight);
        _entropy.Add(in other._entropy);
        _entropySquared.Add(in other._entropySquared);
    }

    /// <param name="confidence">The largest probability of the row's distribution; NaN where it is not known (the calibration is then unknown).</param>
    /// <param name="brier">The row's Brier score against its target; NaN where it is not known.</param>
    internal void AddScored(float loss, float weight, float entropy, bool top1Hit, double confidence, double brier)
    {
        Tokens++;
        Top1Hits += top1Hit ? 1 : 0;
        if (double.IsNaN(confidence))
        {
            Calibration = null;
        }
        else
        {
            Calibration?.Add(confidence, top1Hit, brier);
        }

        _nll.Add(loss);
        _nllSquared.Add((double)loss * loss);
        _weight.Add(weight);
        _entropy.Add(entropy);
        _entropySquared.Add((double)entropy * entropy);
    }

    internal void AddIgnored(long rows) => Ignored += rows;

    internal void AddScoredBytes(long bytes) => ScoredBytes += bytes;

    internal void AddScoredWords(long words) => ScoredWords += words;

    internal void AddTopK(int k, long hits) => _topKHits[k] = _topKHits.GetValueOrDefault(k) + hits;

    /// <summary>Rebuilds totals saved by a shard, exactly.</summary>
    /// <param name="sums">Every name of <see cref="ExactSums"/> with its sum.</param>
    /// <param name="calibration">The bins, or null where the partial has none (format version 4 or older); they must count the tokens and top-1 hits.</param>
    /// <param name="classWeights">Whether the run weighed its losses by class (else Σ w_y is the token count).</param>
    /// <exception cref="ArgumentException">Counts, bins or sums that no scored tokens give (see <see cref="CheckSums"/>).</exception>
    internal static PerplexityAccumulator Restore(long tokens, long ignored, long top1Hits, IReadOnlyDictionary<string, ExactSum> sums,
        IReadOnlyDictionary<int, long> topKHits, long scoredBytes, long scoredWords = 0, CalibrationBins? calibration = null, bool classWeights = false)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(scoredBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(scoredWords);
        if (topKHits.Any(kv => kv.Key < 1 || kv.Value < 0 || kv.Value > tokens))
        {
            throw new ArgumentException($"top-k hits are inconsistent with {tokens} tokens.", nameof(topKHits));
        }

        if (tokens < 0 || ignored < 0 || top1Hits < 0 || top1Hits > tokens)
        {
            throw new ArgumentException($"counts are inconsistent (tokens {tokens}, ignored {ignored}, top1_hits {top1Hits}).", nameof(tokens));
        }

        if (calibration is not null && (calibration.Tokens != tokens || calibration.BinCorrect.Sum() != top1Hits))
        {
            throw new ArgumentException($"calibration bins hold {calibration.Tokens} tokens and {calibration.BinCorrect.Sum()} correct predictions for {tokens} tokens and {top1Hits} top-1 hits.", nameof(calibration));
        }

        var restored = new PerplexityAccumulator
        {
            Tokens = tokens,
            Ignored = ignored,
            Top1Hits = top1Hits,
            ScoredBytes = scoredBytes,
            ScoredWords = scoredWords,
            Calibration = calibration,
            _nll = sums["nll_sum"],
            _nllSquared = sums["nll_sq_sum"],
            _weight = sums["weight_sum"],
            _entropy = sums["entropy_sum"],
            _entropySquared = sums["entropy_sq_sum"],
        }.WithTopK(topKHits);
        restored.CheckSums(classWeights);
        return restored;
    }

    /// <summary>
    /// Refuses sums that no scored tokens give: losses and entropies are at least 0 (label smoothing,
    /// z-loss, temperature and class weights, which are at least 0, keep them so), each sum of squares
    /// agrees with its sum, and Σ w_y is the token count without class weights.
    /// </summary>
    private void CheckSums(bool classWeights)
    {
        SumChecks.NotNegative("exact_sums.nll_sum", NllSum, Tokens, "losses");
        SumChecks.Squares("exact_sums.nll_sum", NllSum, "exact_sums.nll_sq_sum", NllSquaredSum, Tokens);
        SumChecks.NotNegative("exact_sums.entropy_sum", EntropySum, Tokens, "entropies");
        SumChecks.Squares("exact_sums.entropy_sum", EntropySum, "exact_sums.entropy_sq_sum", EntropySquaredSum, Tokens);
        if (!classWeights && WeightSum != Tokens)
        {
            throw new ArgumentException($"exact_sums.weight_sum is {WeightSum}, but without class weights it is the token count, {Tokens}.", "sums");
        }

        if (classWeights && !(WeightSum >= 0 && double.IsFinite(WeightSum) && (Tokens > 0 || WeightSum == 0)))
        {
            throw new ArgumentException($"exact_sums.weight_sum is {WeightSum}, but {Tokens} class weights, each finite and at least 0, cannot sum to it.", "sums");
        }
    }

    private PerplexityAccumulator WithTopK(IReadOnlyDictionary<int, long> hits)
    {
        foreach (var (k, n) in hits)
        {
            AddTopK(k, n);
        }

        return this;
    }
}
