namespace GpuInfo;

/// <summary>
/// Mergeable float64 totals of a base-vs-test comparison over tokens: mean KL(base||test), mean JS,
/// top-1 agreement and, with targets, both perplexities and the change in p(target). Per-token KL
/// values are kept (4 bytes a token) for exact percentiles, and a <see cref="LogHistogram"/> sketch
/// travels with the totals so that merged shards still report percentiles (within 0.5%).
/// </summary>
public sealed class ComparisonAccumulator
{
    private readonly List<float> _kl = [];

    /// <summary>True while every token's KL is held (percentiles are exact).</summary>
    public bool HasAllValues { get; private set; } = true;

    /// <summary>The mergeable sketch of per-token KL.</summary>
    public LogHistogram KlSketch { get; private set; } = new();

    /// <summary>Compared tokens (with targets: tokens whose target is not ignored).</summary>
    public long Tokens { get; private set; }

    public double KlSum { get; private set; }

    public double JsSum { get; private set; }

    public long SameTop1 { get; private set; }

    /// <summary>True once tokens with targets were added: the perplexity and delta-p fields are meaningful.</summary>
    public bool HasTargets { get; private set; }

    public double NllSumBase { get; private set; }

    public double NllSumTest { get; private set; }

    /// <summary>Σ (p_test(y) - p_base(y)).</summary>
    public double DeltaPSum { get; private set; }

    public double DeltaPSquaredSum { get; private set; }

    public double MeanKl => KlSum / Tokens;

    public double MeanJs => JsSum / Tokens;

    public double SameTop1Fraction => (double)SameTop1 / Tokens;

    public double PerplexityBase => Math.Exp(NllSumBase / Tokens);

    public double PerplexityTest => Math.Exp(NllSumTest / Tokens);

    public double MeanDeltaP => DeltaPSum / Tokens;

    public double RmsDeltaP => Math.Sqrt(DeltaPSquaredSum / Tokens);

    /// <summary>The per-token KL values added so far, in order.</summary>
    public IReadOnlyList<float> KlValues => _kl;

    /// <summary>
    /// KL percentiles: exact (NumPy's linear rule) while every value is held, else read from the
    /// sketch (see <see cref="LogHistogram"/> for its error).
    /// </summary>
    public IReadOnlyList<(string Name, double Value)> KlPercentiles() => HasAllValues
        ? Percentiles.Compute(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_kl))
        : [.. Percentiles.Standard.Select(s => (s.Name, KlSketch.Percentile(s.Percent)))];

    /// <summary>Rebuilds totals saved by a shard (values are not saved: percentiles come from the sketch).</summary>
    public static ComparisonAccumulator Restore(long tokens, double klSum, double jsSum, long sameTop1, bool hasTargets,
        double nllSumBase, double nllSumTest, double deltaPSum, double deltaPSquaredSum, LogHistogram sketch)
    {
        ArgumentNullException.ThrowIfNull(sketch);
        if (sketch.Count != tokens)
        {
            throw new ArgumentException($"the KL sketch holds {sketch.Count} values for {tokens} tokens.", nameof(sketch));
        }

        return new ComparisonAccumulator
        {
            Tokens = tokens,
            KlSum = klSum,
            JsSum = jsSum,
            SameTop1 = sameTop1,
            HasTargets = hasTargets,
            NllSumBase = nllSumBase,
            NllSumTest = nllSumTest,
            DeltaPSum = deltaPSum,
            DeltaPSquaredSum = deltaPSquaredSum,
            KlSketch = sketch,
            HasAllValues = tokens == 0,
        };
    }

    internal void AddToken(float kl, float js, bool sameTop1)
    {
        Tokens++;
        KlSum += kl;
        JsSum += js;
        SameTop1 += sameTop1 ? 1 : 0;
        _kl.Add(kl);
        KlSketch.Add(kl);
    }

    /// <summary>Adds one target's -log p, -log q and log q - log p (the last formed without cancellation).</summary>
    internal void AddTarget(float nllBase, float nllTest, float logRatio)
    {
        HasTargets = true;
        NllSumBase += nllBase;
        NllSumTest += nllTest;
        double delta = double.IsFinite(logRatio)
            ? Math.Exp(-(double)nllBase) * (Math.Exp(logRatio) - 1)
            : Math.Exp(-(double)nllTest) - Math.Exp(-(double)nllBase);
        DeltaPSum += delta;
        DeltaPSquaredSum += delta * delta;
    }

    public void Merge(ComparisonAccumulator other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Tokens += other.Tokens;
        KlSum += other.KlSum;
        JsSum += other.JsSum;
        SameTop1 += other.SameTop1;
        HasTargets |= other.HasTargets;
        NllSumBase += other.NllSumBase;
        NllSumTest += other.NllSumTest;
        DeltaPSum += other.DeltaPSum;
        DeltaPSquaredSum += other.DeltaPSquaredSum;
        _kl.AddRange(other._kl);
        HasAllValues &= other.HasAllValues;
        KlSketch.Merge(other.KlSketch);
    }
}
