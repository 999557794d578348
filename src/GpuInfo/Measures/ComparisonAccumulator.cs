namespace GpuInfo;

/// <summary>
/// Mergeable totals of a base-vs-test comparison over tokens: KL(base||test), KL(test||base), JS, total variation, top-1 agreement
/// and, with targets, both models' -log p(target) and the change in p(target), each with its sum of
/// squares (and the cross product of the two NLLs) so that every mean can carry a standard error.
/// Sums are exact (<see cref="ExactSum"/>): any grouping or order of chunks and shards gives the
/// same bits. Per-token KL values are kept (4 bytes a token) for exact percentiles, and a
/// <see cref="LogHistogram"/> sketch travels with the totals so that merged shards still report
/// percentiles (within 0.5%).
/// </summary>
public sealed class ComparisonAccumulator
{
    /// <summary>Totals whose calibrations have torchmetrics' default bins (<see cref="CalibrationBins.DefaultBins"/>).</summary>
    public ComparisonAccumulator()
        : this(CalibrationBins.DefaultBins)
    {
    }

    /// <param name="calibrationBins">Equal-width bins of each model's top-1 confidence (<see cref="CalibrationBins"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 1 bin, or more than <see cref="CalibrationBins.MaxBins"/>.</exception>
    public ComparisonAccumulator(int calibrationBins)
    {
        CalibrationBase = new CalibrationBins(calibrationBins);
        CalibrationTest = new CalibrationBins(calibrationBins);
    }

    private readonly List<float> _klValues = [];
    private readonly List<float> _deltaPValues = [];
    private readonly SortedDictionary<int, TopKTotals> _topK = [];
    private readonly MomentSums _kl = new("kl_sum", "kl_sq_sum");
    private readonly MomentSums _js = new("js_sum", "js_sq_sum");
    private readonly MomentSums _nllBase = new("nll_sum_base", "nll_sq_sum_base");
    private readonly MomentSums _nllTest = new("nll_sum_test", "nll_sq_sum_test");
    private readonly MomentSums _deltaP = new("delta_p_sum", "delta_p_sq_sum");
    private readonly MomentSums _lnRatio = new("ln_ratio_sum", "ln_ratio_sq_sum");
    private readonly MomentSums _reverseKl = new(ReverseKlNames.Sum, ReverseKlNames.Squares);
    private readonly MomentSums _brierDifference = new(BrierDifferenceNames.Sum, BrierDifferenceNames.Squares);
    private readonly MomentSums _tv = new(TotalVariationNames.Sum, TotalVariationNames.Squares);
    private ExactSum _nllCross;
    private ExactSum _deltaPFourth;

    /// <summary>True while every token's KL is held (percentiles are exact).</summary>
    public bool HasAllValues { get; private set; } = true;

    /// <summary>The mergeable sketch of per-token KL.</summary>
    public LogHistogram KlSketch { get; private set; } = new();

    /// <summary>The mergeable sketch of per-token Δp (with targets).</summary>
    public LinearHistogram DeltaPSketch { get; private set; } = new();

    /// <summary>Compared tokens (with targets: tokens whose target is not ignored).</summary>
    public long Tokens { get; private set; }

    /// <summary>Σ KL(base||test) over compared tokens (nats).</summary>
    public double KlSum => _kl.Sum;

    /// <summary>Σ KL² (for the standard error of the mean).</summary>
    public double KlSquaredSum => _kl.Squares;

    /// <summary>
    /// False for totals restored from a partial of format version 4 or older, which did not record
    /// KL(test||base): the reverse KL is then unknown (NaN).
    /// </summary>
    public bool HasReverseKl => _reverseKl.Known;

    /// <summary>
    /// False where a token came without both Brier scores (totals restored from a partial of format
    /// version 6 or older): <see cref="MeanBrierDifference"/> is then unknown (NaN).
    /// </summary>
    public bool HasBrierDifference => _brierDifference.Known;

    /// <summary>
    /// With targets: the mean per-token difference of the two models' Brier scores, test − base (the
    /// difference of <see cref="CalibrationBins.BrierScore"/> of <see cref="CalibrationTest"/> and
    /// <see cref="CalibrationBase"/>), summed token by token so that its standard error is the paired one.
    /// </summary>
    public double MeanBrierDifference => _brierDifference.Mean(Tokens);

    /// <summary>The standard error of <see cref="MeanBrierDifference"/>, from the per-token differences (paired: much below either score's own).</summary>
    public double MeanBrierDifferenceError => _brierDifference.MeanError(Tokens);

    /// <summary>Σ KL(test||base) over compared tokens (nats).</summary>
    public double ReverseKlSum => _reverseKl.Sum;

    /// <summary>Σ KL(test||base)².</summary>
    public double ReverseKlSquaredSum => _reverseKl.Squares;

    /// <summary>Σ Jensen-Shannon divergence over compared tokens (nats).</summary>
    public double JsSum => _js.Sum;

    /// <summary>Σ JS² (for the standard error of the mean).</summary>
    public double JsSquaredSum => _js.Squares;

    /// <summary>
    /// False for totals restored from a partial of format version 7 or older, which did not record
    /// the total variation: it is then unknown (NaN).
    /// </summary>
    public bool HasTotalVariation => _tv.Known;

    /// <summary>Σ total variation distance ½Σ|p − q| over compared tokens.</summary>
    public double TotalVariationSum => _tv.Sum;

    /// <summary>Σ TV².</summary>
    public double TotalVariationSquaredSum => _tv.Squares;

    /// <summary>Tokens where both models have the same argmax.</summary>
    public long SameTop1 { get; private set; }

    /// <summary>True once tokens with targets were added: the perplexity and delta-p fields are meaningful.</summary>
    public bool HasTargets { get; private set; }

    /// <summary>
    /// With targets, the calibration of the base model's top-1 predictions (accuracy, expected and
    /// maximum calibration error); null where unknown (a partial of format version 5 or older).
    /// </summary>
    public CalibrationBins? CalibrationBase { get; private set; }

    /// <summary>The same for the test model.</summary>
    public CalibrationBins? CalibrationTest { get; private set; }

    /// <summary>Σ −log p_base(target) (nats).</summary>
    public double NllSumBase => _nllBase.Sum;

    /// <summary>Σ (−log p_base(target))².</summary>
    public double NllSquaredSumBase => _nllBase.Squares;

    /// <summary>Σ −log p_test(target) (nats).</summary>
    public double NllSumTest => _nllTest.Sum;

    /// <summary>Σ (−log p_test(target))².</summary>
    public double NllSquaredSumTest => _nllTest.Squares;

    /// <summary>Σ nll_base·nll_test (for the correlation of the two models' per-token NLL).</summary>
    public double NllCrossSum => _nllCross.Value;

    /// <summary>Σ (p_test(y) - p_base(y)).</summary>
    public double DeltaPSum => _deltaP.Sum;

    /// <summary>Σ Δp².</summary>
    public double DeltaPSquaredSum => _deltaP.Squares;

    /// <summary>Σ Δp⁴ (for the standard error of RMS Δp).</summary>
    public double DeltaPFourthSum => _deltaPFourth.Value;

    /// <summary>Mean KL(base||test) per token (nats).</summary>
    public double MeanKl => KlSum / Tokens;

    /// <summary>Mean KL(test||base) per token (nats): the reverse direction, which weighs where the test model puts its mass.</summary>
    public double MeanReverseKl => ReverseKlSum / Tokens;

    /// <summary>Mean Jensen-Shannon divergence per token (nats).</summary>
    public double MeanJs => JsSum / Tokens;

    /// <summary>Mean total variation distance per token, in [0, 1].</summary>
    public double MeanTotalVariation => TotalVariationSum / Tokens;

    /// <summary>Standard error of <see cref="MeanTotalVariation"/> (and of <see cref="AcceptanceRate"/>).</summary>
    public double MeanTotalVariationError => _tv.MeanError(Tokens);

    /// <summary>
    /// 1 − <see cref="MeanTotalVariation"/>: the expected share of tokens drafted by the test model
    /// that speculative sampling with the base model as target accepts, Σ min(p, q) per token
    /// (Leviathan et al. 2023), at the comparison's temperature.
    /// </summary>
    public double AcceptanceRate => 1 - MeanTotalVariation;

    /// <summary>The fraction of tokens where both models have the same argmax.</summary>
    public double SameTop1Fraction => (double)SameTop1 / Tokens;

    /// <summary>The base model's perplexity on the targets.</summary>
    public double PerplexityBase => Math.Exp(NllSumBase / Tokens);

    /// <summary>The test model's perplexity on the targets.</summary>
    public double PerplexityTest => Math.Exp(NllSumTest / Tokens);

    /// <summary>Mean Δp = p_test(target) − p_base(target).</summary>
    public double MeanDeltaP => DeltaPSum / Tokens;

    /// <summary>Root mean square of Δp.</summary>
    public double RmsDeltaP => Math.Sqrt(DeltaPSquaredSum / Tokens);

    /// <summary>Standard error of <see cref="MeanKl"/>.</summary>
    public double MeanKlError => _kl.MeanError(Tokens);

    /// <summary>Standard error of <see cref="MeanReverseKl"/>.</summary>
    public double MeanReverseKlError => _reverseKl.MeanError(Tokens);

    /// <summary>Standard error of <see cref="MeanJs"/>.</summary>
    public double MeanJsError => _js.MeanError(Tokens);

    /// <summary>sqrt(f(1 − f)/(n − 1)) of the same-top-1 fraction.</summary>
    public double SameTop1FractionError => Uncertainty.Fraction(SameTop1, Tokens);

    /// <summary>PPL·SE(NLL) of the base model's perplexity.</summary>
    public double PerplexityBaseError => PerplexityBase * Uncertainty.Mean(NllSumBase, NllSquaredSumBase, Tokens).Error;

    /// <summary>PPL·SE(NLL) of the test model's perplexity.</summary>
    public double PerplexityTestError => PerplexityTest * Uncertainty.Mean(NllSumTest, NllSquaredSumTest, Tokens).Error;

    /// <summary>Pearson correlation of the two models' per-token NLL: Cor(ln PPL(test), ln PPL(base)).</summary>
    public double LnPerplexityCorrelation =>
        LnPerplexityCovariance / (Uncertainty.Mean(NllSumTest, NllSquaredSumTest, Tokens).Error * Uncertainty.Mean(NllSumBase, NllSquaredSumBase, Tokens).Error);

    /// <summary>
    /// Mean ln(PPL(test)/PPL(base)): the mean per-token NLL difference, summed from each token's
    /// log q − log p formed without cancellation (the difference of the two NLL sums had no correct
    /// digit for near-identical models: −2.0e-7 for −8.8e-8).
    /// </summary>
    public double MeanLnPerplexityRatio => _lnRatio.Mean(Tokens);

    /// <summary>Its standard error, from the per-token differences themselves.</summary>
    public double MeanLnPerplexityRatioError => _lnRatio.MeanError(Tokens);

    /// <summary>PPL(test)/PPL(base).</summary>
    public double PerplexityRatio => Math.Exp(MeanLnPerplexityRatio);

    /// <summary>Standard error of <see cref="PerplexityRatio"/>.</summary>
    public double PerplexityRatioError => PerplexityRatio * MeanLnPerplexityRatioError;

    /// <summary>PPL(test) − PPL(base), as PPL(base)·(e^r − 1) with r the mean log ratio (no cancellation).</summary>
    public double PerplexityDifference
    {
        get
        {
            double r = MeanLnPerplexityRatio;
            return PerplexityBase * (Math.Abs(r) < 1e-5 ? r * (1 + (r / 2 * (1 + (r / 3)))) : Math.Exp(r) - 1);
        }
    }

    /// <summary>Its standard error, with the two perplexities' covariance PPL_test·PPL_base·Cov(ln).</summary>
    public double PerplexityDifferenceError
    {
        get
        {
            double a = PerplexityTestError, b = PerplexityBaseError, cov = PerplexityTest * PerplexityBase * LnPerplexityCovariance;
            return Math.Sqrt(Math.Max(0, (a * a) + (b * b) - (2 * cov)));
        }
    }

    /// <summary>Standard error of <see cref="MeanDeltaP"/>.</summary>
    public double MeanDeltaPError => _deltaP.MeanError(Tokens);

    /// <summary>SE of RMS Δp: SE(mean Δp²)/(2·RMS), as llama.cpp propagates it.</summary>
    public double RmsDeltaPError => 0.5 / RmsDeltaP * Uncertainty.Mean(DeltaPSquaredSum, DeltaPFourthSum, Tokens).Error;

    /// <summary>The k values whose top-k agreement was counted (a corpus run's <c>TopK</c>).</summary>
    public IReadOnlyCollection<int> TopK => _topK.Keys;

    private TopKTotals Tracked(int k) => _topK.TryGetValue(k, out var totals) ? totals
        : throw new ArgumentOutOfRangeException(nameof(k), k, $"top-{k} was not tracked; the tracked k are {(_topK.Count == 0 ? "none (give the run a TopK)" : string.Join(", ", _topK.Keys))}.");

    /// <summary>Mean |top_k(base) ∩ top_k(test)| / k over compared tokens, and its standard error.</summary>
    /// <exception cref="ArgumentOutOfRangeException">k was not tracked (not in the run's <c>TopK</c>).</exception>
    public (double Mean, double Error) TopKOverlap(int k) => Uncertainty.Mean(Tracked(k).Overlap.Value, Tracked(k).OverlapSquared.Value, Tokens);

    /// <summary>The fraction of compared tokens whose base top-1 is in the test's top k, and its standard error.</summary>
    /// <exception cref="ArgumentOutOfRangeException">k was not tracked (not in the run's <c>TopK</c>).</exception>
    public (double Fraction, double Error) TopOneInTopK(int k) => ((double)Tracked(k).TopOneIn / Tokens, Uncertainty.Fraction(Tracked(k).TopOneIn, Tokens));

    /// <summary>Per k: the exact overlap sums and the top-1 count, for partial files.</summary>
    internal IEnumerable<(int K, ExactSum Overlap, ExactSum OverlapSquared, long TopOneIn)> TopKTotalsByK =>
        _topK.Select(kv => (kv.Key, kv.Value.Overlap, kv.Value.OverlapSquared, kv.Value.TopOneIn));

    /// <summary>The per-token Δp values added so far (with targets), in order.</summary>
    public IReadOnlyList<float> DeltaPValues => _deltaPValues;

    private double LnPerplexityCovariance => Uncertainty.CovarianceOfMeans(NllSumTest, NllSumBase, NllCrossSum, Tokens);

    /// <summary>The per-token KL values added so far, in order.</summary>
    public IReadOnlyList<float> KlValues => _klValues;

    private static readonly (string Sum, string Squares) ReverseKlNames = ("reverse_kl_sum", "reverse_kl_sq_sum");
    private static readonly (string Sum, string Squares) BrierDifferenceNames = ("brier_diff_sum", "brier_diff_sq_sum");
    private static readonly (string Sum, string Squares) TotalVariationNames = ("tv_sum", "tv_sq_sum");

    /// <summary>Measures whose sums partials carry only from a format version on (before it the measure is unknown).</summary>
    private static readonly ((string Sum, string Squares) Names, int Since)[] LaterSums =
        [(ReverseKlNames, 5), (BrierDifferenceNames, 7), (TotalVariationNames, 8)];

    /// <summary>Whether a partial of format <paramref name="version"/> carries the exact sum <paramref name="name"/>.</summary>
    internal static bool SumKnownIn(string name, int version) =>
        LaterSums.All(later => version >= later.Since || (name != later.Names.Sum && name != later.Names.Squares));

    /// <summary>Every measure summed with its squares, in the order partials list them.</summary>
    private MomentSums[] Moments => [_kl, _js, _nllBase, _nllTest, _deltaP, _lnRatio, _reverseKl, _brierDifference, _tv];

    /// <summary>The exact sums by their partial-file names, in a fixed order (a later measure's only where it is known).</summary>
    internal IEnumerable<(string Name, ExactSum Sum)> ExactSums =>
    [
        .. _kl.Named, .. _js.Named, .. _nllBase.Named, .. _nllTest.Named, ("nll_cross_sum", _nllCross),
        .. _deltaP.Named, ("delta_p_4_sum", _deltaPFourth), .. _lnRatio.Named,
        .. _reverseKl.Named, .. _brierDifference.Named, .. _tv.Named,
    ];

    /// <summary>
    /// KL percentiles: exact (NumPy's linear rule) while every value is held, else read from the
    /// sketch (see <see cref="LogHistogram"/> for its error).
    /// </summary>
    public IReadOnlyList<(string Name, double Value)> KlPercentiles() => HasAllValues
        ? Percentiles.Compute(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_klValues))
        : [.. Percentiles.Standard.Select(s => (s.Name, KlSketch.Percentile(s.Percent)))];

    /// <summary>
    /// Δp percentiles (<see cref="Percentiles.DeltaP"/>): exact while every value is held, else read
    /// from the sketch (within <see cref="LinearHistogram.AbsoluteError"/>).
    /// </summary>
    public IReadOnlyList<(string Name, double Value)> DeltaPPercentiles() => HasAllValues
        ? Percentiles.Compute(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_deltaPValues), Percentiles.DeltaP)
        : [.. Percentiles.DeltaP.Select(s => (s.Name, DeltaPSketch.Percentile(s.Percent)))];

    /// <summary>Rebuilds totals saved by a shard, exactly (values are not saved: percentiles come from the sketch).</summary>
    /// <param name="sums">Every name of <see cref="ExactSums"/> with its sum; without the sums of a measure of <see cref="LaterSums"/> (the reverse KL, the Brier difference, the total variation) that measure is unknown.</param>
    /// <param name="calibration">Both models' calibration bins (with targets, from format version 5), or null where the partial has none.</param>
    /// <exception cref="ArgumentException">Counts, sketches or sums that no compared tokens give (see <see cref="CheckSums"/>).</exception>
    internal static ComparisonAccumulator Restore(long tokens, long sameTop1, bool hasTargets,
        IReadOnlyDictionary<string, ExactSum> sums, LogHistogram sketch, LinearHistogram deltaPSketch,
        (CalibrationBins Base, CalibrationBins Test)? calibration = null)
    {
        if (calibration is { } c && (c.Base.Tokens != (hasTargets ? tokens : 0) || c.Test.Tokens != c.Base.Tokens))
        {
            throw new ArgumentException($"calibration bins hold {c.Base.Tokens} (base) and {c.Test.Tokens} (test) tokens for {(hasTargets ? tokens : 0)} targets.", nameof(calibration));
        }

        ArgumentNullException.ThrowIfNull(deltaPSketch);
        if (deltaPSketch.Count != (hasTargets ? tokens : 0))
        {
            throw new ArgumentException($"the delta-p sketch holds {deltaPSketch.Count} values for {(hasTargets ? tokens : 0)} targets.", nameof(deltaPSketch));
        }

        ArgumentNullException.ThrowIfNull(sketch);
        if (tokens < 0 || sameTop1 < 0 || sameTop1 > tokens)
        {
            throw new ArgumentException($"counts are inconsistent (tokens {tokens}, same_top1 {sameTop1}).", nameof(tokens));
        }

        if (sketch.Count != tokens)
        {
            throw new ArgumentException($"the KL sketch holds {sketch.Count} values for {tokens} tokens.", nameof(sketch));
        }

        var restored = new ComparisonAccumulator
        {
            Tokens = tokens,
            SameTop1 = sameTop1,
            HasTargets = hasTargets,
            _nllCross = Required(sums, "nll_cross_sum"),
            _deltaPFourth = Required(sums, "delta_p_4_sum"),
            KlSketch = sketch,
            DeltaPSketch = deltaPSketch,
            CalibrationBase = calibration?.Base,
            CalibrationTest = calibration?.Test,
            HasAllValues = tokens == 0,
        };
        foreach (var moments in restored.Moments)
        {
            moments.Restore(sums);
            if (!moments.Known && !LaterSums.Any(later => later.Names.Sum == moments.SumName))
            {
                throw new ArgumentException($"the sums have no {moments.SumName}.", nameof(sums));
            }
        }

        restored.CheckSums();
        CheckRange(sketch, "kl_sketch");
        CheckRange(deltaPSketch, "delta_p_sketch");
        return restored;
    }

    /// <summary>
    /// Refuses sums that no compared tokens give: KL (either way) and NLL are at least 0; JS within
    /// [0, ln 2], TV within [0, 1], Δp within [-1, 1] and the Brier difference within [-2, 2]; every
    /// sum agrees with its squares (Δp² with Δp⁴, the NLL cross product with both NLLs' squares); and
    /// the Brier difference is the difference of the two calibrations' Brier sums.
    /// </summary>
    private void CheckSums()
    {
        _kl.CheckNotNegative(Tokens, "KL divergences");
        _reverseKl.CheckNotNegative(Tokens, "KL divergences");
        _nllBase.CheckNotNegative(Tokens, "negative log-likelihoods");
        _nllTest.CheckNotNegative(Tokens, "negative log-likelihoods");
        _js.CheckWithin(Tokens, 0, Math.Log(2), "Jensen-Shannon divergences");
        // A float32 row sum may miss 1 by a few ulps either way (disjoint supports: 1.0000002 at 65557
        // entries; 0.9999965 to 1 over 260 rows of 100003): the bounds have room for that.
        _tv.CheckWithin(Tokens, 0, 1, "total variation distances");
        _deltaP.CheckWithin(Tokens, -1, 1, "changes in p(target)");
        SumChecks.Within("exact_sums.delta_p_sq_sum", DeltaPSquaredSum, "exact_sums.delta_p_4_sum", DeltaPFourthSum, Tokens, 0, 1, "squared changes in p(target)");
        SumChecks.CrossProduct("exact_sums.nll_cross_sum", NllCrossSum, "exact_sums.nll_sq_sum_base", NllSquaredSumBase, "exact_sums.nll_sq_sum_test", NllSquaredSumTest);
        _lnRatio.CheckSquares(Tokens);
        _brierDifference.CheckWithin(Tokens, -2, 2, "differences of Brier scores");
        if (HasBrierDifference && CalibrationBase?.BrierSums is { } baseBrier && CalibrationTest?.BrierSums is { } testBrier)
        {
            // Each token's difference of two float32 scores is rounded by at most 2^-53 of their sum.
            double difference = testBrier.Sum.Value - baseBrier.Sum.Value, room = 1e-9 * (testBrier.Sum.Value + baseBrier.Sum.Value);
            if (!(Math.Abs(_brierDifference.Sum - difference) <= room))
            {
                throw new ArgumentException($"exact_sums.brier_diff_sum is {_brierDifference.Sum}, but the Brier sums of calibration_test and calibration_base differ by {difference}.", "sums");
            }
        }
    }

    /// <summary>A restored sketch holding values has min ≤ max; an empty one has neither (a partial writes null for both).</summary>
    private static void CheckRange(BinnedSketch sketch, string name)
    {
        if (sketch.Count > 0 && !(sketch.Min <= sketch.Max))
        {
            throw new ArgumentException($"{name}.min {sketch.Min} is above {name}.max {sketch.Max}.", name);
        }

        if (sketch.Count == 0 && (sketch.Min != double.PositiveInfinity || sketch.Max != double.NegativeInfinity))
        {
            throw new ArgumentException($"{name} holds no values, but has min {sketch.Min} and max {sketch.Max}.", name);
        }
    }

    private static ExactSum Required(IReadOnlyDictionary<string, ExactSum> sums, string name) =>
        sums.TryGetValue(name, out var sum) ? sum : throw new ArgumentException($"the sums have no {name}.", nameof(sums));

    internal void AddToken(float kl, float reverseKl, float js, float tv, bool sameTop1)
    {
        Tokens++;
        _kl.Add(kl);
        _reverseKl.Add(reverseKl);
        _js.Add(js);
        _tv.Add(tv);
        SameTop1 += sameTop1 ? 1 : 0;
        _klValues.Add(kl);
        KlSketch.Add(kl);
    }

    internal void AddTopK(int k, float overlap, bool topOneIn)
    {
        var totals = TopKOf(k);
        totals.Overlap.Add(overlap);
        totals.OverlapSquared.Add((double)overlap * overlap);
        totals.TopOneIn += topOneIn ? 1 : 0;
    }

    internal void RestoreTopK(int k, ExactSum overlap, ExactSum overlapSquared, long topOneIn)
    {
        if (k < 1 || topOneIn < 0 || topOneIn > Tokens)
        {
            throw new ArgumentException($"top-{k} agreement is inconsistent with {Tokens} tokens.", nameof(topOneIn));
        }

        SumChecks.Within($"top_k_agreement.{k}.overlap_sum", overlap.Value, $"top_k_agreement.{k}.overlap_sq_sum", overlapSquared.Value, Tokens, 0, 1, "top-k overlaps");

        var totals = TopKOf(k);
        totals.Overlap.Add(in overlap);
        totals.OverlapSquared.Add(in overlapSquared);
        totals.TopOneIn += topOneIn;
    }

    /// <summary>Adds one target's -log p, -log q and log q - log p (the last formed without cancellation).</summary>
    internal void AddTarget(float nllBase, float nllTest, float logRatio)
    {
        HasTargets = true;
        _nllBase.Add(nllBase);
        _nllTest.Add(nllTest);
        _nllCross.Add((double)nllBase * nllTest);
        _lnRatio.Add(double.IsFinite(logRatio) ? -(double)logRatio : (double)nllTest - nllBase);
        double delta = DeltaP(nllBase, nllTest, logRatio);
        _deltaP.Add(delta);
        _deltaPFourth.Add(delta * delta * delta * delta);
        _deltaPValues.Add((float)delta);
        DeltaPSketch.Add(delta);
    }

    /// <summary>
    /// q − p from the target's -log p, -log q and log(q/p): p·(e^r − 1) where the two are close (no
    /// cancellation), q − p where they are not, so that p far below q (e^r past double's range, p 0)
    /// is not 0·∞.
    /// </summary>
    internal static double DeltaP(float nllBase, float nllTest, float logRatio) =>
        double.IsFinite(logRatio) && logRatio <= 1
            ? Math.Exp(-(double)nllBase) * (Math.Exp(logRatio) - 1)
            : Math.Exp(-(double)nllTest) - Math.Exp(-(double)nllBase);

    /// <summary>Adds one target's top-1 confidence and correctness, and its Brier score, under each model.</summary>
    internal void AddCalibration(double confidenceBase, bool correctBase, double brierBase, double confidenceTest, bool correctTest, double brierTest)
    {
        CalibrationBase?.Add(confidenceBase, correctBase, brierBase);
        CalibrationTest?.Add(confidenceTest, correctTest, brierTest);
        double difference = brierTest - brierBase;
        if (double.IsNaN(difference))
        {
            _brierDifference.Forget();
        }

        _brierDifference.Add(difference);
    }

    /// <summary>Adds another accumulator's totals, values and sketches (a chunk or shard of the same run).</summary>
    public void Merge(ComparisonAccumulator other)
    {
        ArgumentNullException.ThrowIfNull(other);
        CalibrationBins.ThrowIfOtherCount(CalibrationBase, other.CalibrationBase, nameof(other));
        Tokens += other.Tokens;
        SameTop1 += other.SameTop1;
        HasTargets |= other.HasTargets;
        CalibrationBase = Merged(CalibrationBase, other.CalibrationBase);
        CalibrationTest = Merged(CalibrationTest, other.CalibrationTest);
        var mine = Moments;
        var theirs = other.Moments;
        for (int i = 0; i < mine.Length; i++)
        {
            mine[i].Merge(theirs[i]);
        }

        _nllCross.Add(in other._nllCross);
        _deltaPFourth.Add(in other._deltaPFourth);
        foreach (var (k, t) in other._topK)
        {
            var totals = TopKOf(k);
            totals.Overlap.Add(in t.Overlap);
            totals.OverlapSquared.Add(in t.OverlapSquared);
            totals.TopOneIn += t.TopOneIn;
        }

        _klValues.AddRange(other._klValues);
        _deltaPValues.AddRange(other._deltaPValues);
        DeltaPSketch.Merge(other.DeltaPSketch);
        HasAllValues &= other.HasAllValues;
        KlSketch.Merge(other.KlSketch);
    }

    private static CalibrationBins? Merged(CalibrationBins? mine, CalibrationBins? other)
    {
        if (mine is null || other is null)
        {
            return null;
        }

        mine.Merge(other);
        return mine;
    }

    private TopKTotals TopKOf(int k)
    {
        if (!_topK.TryGetValue(k, out var totals))
        {
            totals = new TopKTotals();
            _topK[k] = totals;
        }

        return totals;
    }

    /// <summary>One k's running totals (a class, so that its exact sums are added in place).</summary>
    private sealed class TopKTotals
    {
        public ExactSum Overlap;
        public ExactSum OverlapSquared;

        public long TopOneIn { get; set; }
    }
}
