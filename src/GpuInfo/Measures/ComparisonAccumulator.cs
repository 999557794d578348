namespace GpuInfo;

/// <summary>
/// Mergeable float64 totals of a base-vs-test comparison over tokens: mean KL(base||test), mean JS,
/// top-1 agreement and, with targets, both perplexities and the change in p(target). Per-token KL
/// values are kept (4 bytes a token) for exact percentiles.
/// </summary>
public sealed class ComparisonAccumulator
{
    private readonly List<float> _kl = [];

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

    /// <summary>KL percentiles (NumPy's linear rule) over every token added.</summary>
    public IReadOnlyList<(string Name, double Value)> KlPercentiles() =>
        Percentiles.Compute(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_kl));

    internal void AddToken(float kl, float js, bool sameTop1)
    {
        Tokens++;
        KlSum += kl;
        JsSum += js;
        SameTop1 += sameTop1 ? 1 : 0;
        _kl.Add(kl);
    }

    internal void AddTarget(float nllBase, float nllTest)
    {
        HasTargets = true;
        NllSumBase += nllBase;
        NllSumTest += nllTest;
        double delta = Math.Exp(-(double)nllTest) - Math.Exp(-(double)nllBase);
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
    }
}
