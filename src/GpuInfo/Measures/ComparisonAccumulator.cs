namespace GpuInfo;

/// <summary>
/// Mergeable totals of a base-vs-test comparison over tokens: KL(base||test), JS, top-1 agreement
/// and, with targets, both models' -log p(target) and the change in p(target), each with its sum of
/// squares (and the cross product of the two NLLs) so that every mean can carry a standard error.
/// Sums are exact (<see cref="ExactSum"/>): any grouping or order of chunks and shards gives the
/// same bits. Per-token KL values are kept (4 bytes a token) for exact percentiles, and a
/// <see cref="LogHistogram"/> sketch travels with the totals so that merged shards still report
/// percentiles (within 0.5%).
/// </summary>
public sealed class ComparisonAccumulator
{
    private readonly List<float> _kl = [];
    private ExactSum _klSum;
    private ExactSum _klSquared;
    private ExactSum _jsSum;
    private ExactSum _jsSquared;
    private ExactSum _nllBase;
    private ExactSum _nllBaseSquared;
    private ExactSum _nllTest;
    private ExactSum _nllTestSquared;
    private ExactSum _nllCross;
    private ExactSum _deltaP;
    private ExactSum _deltaPSquared;

    /// <summary>True while every token's KL is held (percentiles are exact).</summary>
    public bool HasAllValues { get; private set; } = true;

    /// <summary>The mergeable sketch of per-token KL.</summary>
    public LogHistogram KlSketch { get; private set; } = new();

    /// <summary>Compared tokens (with targets: tokens whose target is not ignored).</summary>
    public long Tokens { get; private set; }

    public double KlSum => _klSum.Value;

    public double KlSquaredSum => _klSquared.Value;

    public double JsSum => _jsSum.Value;

    public double JsSquaredSum => _jsSquared.Value;

    public long SameTop1 { get; private set; }

    /// <summary>True once tokens with targets were added: the perplexity and delta-p fields are meaningful.</summary>
    public bool HasTargets { get; private set; }

    public double NllSumBase => _nllBase.Value;

    public double NllSquaredSumBase => _nllBaseSquared.Value;

    public double NllSumTest => _nllTest.Value;

    public double NllSquaredSumTest => _nllTestSquared.Value;

    /// <summary>Σ nll_base·nll_test (for the correlation of the two models' per-token NLL).</summary>
    public double NllCrossSum => _nllCross.Value;

    /// <summary>Σ (p_test(y) - p_base(y)).</summary>
    public double DeltaPSum => _deltaP.Value;

    public double DeltaPSquaredSum => _deltaPSquared.Value;

    public double MeanKl => KlSum / Tokens;

    public double MeanJs => JsSum / Tokens;

    public double SameTop1Fraction => (double)SameTop1 / Tokens;

    public double PerplexityBase => Math.Exp(NllSumBase / Tokens);

    public double PerplexityTest => Math.Exp(NllSumTest / Tokens);

    public double MeanDeltaP => DeltaPSum / Tokens;

    public double RmsDeltaP => Math.Sqrt(DeltaPSquaredSum / Tokens);

    /// <summary>The per-token KL values added so far, in order.</summary>
    public IReadOnlyList<float> KlValues => _kl;

    /// <summary>The exact sums by their partial-file names, in a fixed order.</summary>
    internal IEnumerable<(string Name, ExactSum Sum)> ExactSums =>
    [
        ("kl_sum", _klSum), ("kl_sq_sum", _klSquared), ("js_sum", _jsSum), ("js_sq_sum", _jsSquared),
        ("nll_sum_base", _nllBase), ("nll_sq_sum_base", _nllBaseSquared), ("nll_sum_test", _nllTest),
        ("nll_sq_sum_test", _nllTestSquared), ("nll_cross_sum", _nllCross), ("delta_p_sum", _deltaP),
        ("delta_p_sq_sum", _deltaPSquared),
    ];

    /// <summary>
    /// KL percentiles: exact (NumPy's linear rule) while every value is held, else read from the
    /// sketch (see <see cref="LogHistogram"/> for its error).
    /// </summary>
    public IReadOnlyList<(string Name, double Value)> KlPercentiles() => HasAllValues
        ? Percentiles.Compute(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_kl))
        : [.. Percentiles.Standard.Select(s => (s.Name, KlSketch.Percentile(s.Percent)))];

    /// <summary>Rebuilds totals saved by a shard, exactly (values are not saved: percentiles come from the sketch).</summary>
    /// <param name="sums">Every name of <see cref="ExactSums"/> with its sum.</param>
    internal static ComparisonAccumulator Restore(long tokens, long sameTop1, bool hasTargets,
        IReadOnlyDictionary<string, ExactSum> sums, LogHistogram sketch)
    {
        ArgumentNullException.ThrowIfNull(sketch);
        if (tokens < 0 || sameTop1 < 0 || sameTop1 > tokens)
        {
            throw new ArgumentException($"counts are inconsistent (tokens {tokens}, same_top1 {sameTop1}).", nameof(tokens));
        }

        if (sketch.Count != tokens)
        {
            throw new ArgumentException($"the KL sketch holds {sketch.Count} values for {tokens} tokens.", nameof(sketch));
        }

        return new ComparisonAccumulator
        {
            Tokens = tokens,
            SameTop1 = sameTop1,
            HasTargets = hasTargets,
            _klSum = sums["kl_sum"],
            _klSquared = sums["kl_sq_sum"],
            _jsSum = sums["js_sum"],
            _jsSquared = sums["js_sq_sum"],
            _nllBase = sums["nll_sum_base"],
            _nllBaseSquared = sums["nll_sq_sum_base"],
            _nllTest = sums["nll_sum_test"],
            _nllTestSquared = sums["nll_sq_sum_test"],
            _nllCross = sums["nll_cross_sum"],
            _deltaP = sums["delta_p_sum"],
            _deltaPSquared = sums["delta_p_sq_sum"],
            KlSketch = sketch,
            HasAllValues = tokens == 0,
        };
    }

    internal void AddToken(float kl, float js, bool sameTop1)
    {
        Tokens++;
        _klSum.Add(kl);
        _klSquared.Add((double)kl * kl);
        _jsSum.Add(js);
        _jsSquared.Add((double)js * js);
        SameTop1 += sameTop1 ? 1 : 0;
        _kl.Add(kl);
        KlSketch.Add(kl);
    }

    /// <summary>Adds one target's -log p, -log q and log q - log p (the last formed without cancellation).</summary>
    internal void AddTarget(float nllBase, float nllTest, float logRatio)
    {
        HasTargets = true;
        _nllBase.Add(nllBase);
        _nllBaseSquared.Add((double)nllBase * nllBase);
        _nllTest.Add(nllTest);
        _nllTestSquared.Add((double)nllTest * nllTest);
        _nllCross.Add((double)nllBase * nllTest);
        double delta = double.IsFinite(logRatio)
            ? Math.Exp(-(double)nllBase) * (Math.Exp(logRatio) - 1)
            : Math.Exp(-(double)nllTest) - Math.Exp(-(double)nllBase);
        _deltaP.Add(delta);
        _deltaPSquared.Add(delta * delta);
    }

    public void Merge(ComparisonAccumulator other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Tokens += other.Tokens;
        SameTop1 += other.SameTop1;
        HasTargets |= other.HasTargets;
        _klSum.Add(in other._klSum);
        _klSquared.Add(in other._klSquared);
        _jsSum.Add(in other._jsSum);
        _jsSquared.Add(in other._jsSquared);
        _nllBase.Add(in other._nllBase);
        _nllBaseSquared.Add(in other._nllBaseSquared);
        _nllTest.Add(in other._nllTest);
        _nllTestSquared.Add(in other._nllTestSquared);
        _nllCross.Add(in other._nllCross);
        _deltaP.Add(in other._deltaP);
        _deltaPSquared.Add(in other._deltaPSquared);
        _kl.AddRange(other._kl);
        HasAllValues &= other.HasAllValues;
        KlSketch.Merge(other.KlSketch);
    }
}
