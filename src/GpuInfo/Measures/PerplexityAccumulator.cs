namespace GpuInfo;

/// <summary>
/// Mergeable float64 totals of an evaluation: Σ loss, Σ w_y (the token count when unweighted),
/// Σ entropy and top-1 hits over scored tokens. Add chunks or shards in any order and merge; the
/// results equal one pass over everything.
/// </summary>
public sealed class PerplexityAccumulator
{
    /// <summary>Scored tokens (targets not ignored).</summary>
    public long Tokens { get; private set; }

    public long Ignored { get; private set; }

    /// <summary>Σ loss_i over scored tokens (nats; w_y-weighted when class weights are used).</summary>
    public double NllSum { get; private set; }

    /// <summary>Σ w_y over scored tokens: the denominator of the mean.</summary>
    public double WeightSum { get; private set; }

    /// <summary>Σ H(softmax) over scored tokens (nats).</summary>
    public double EntropySum { get; private set; }

    /// <summary>Scored tokens whose argmax equals the target.</summary>
    public long Top1Hits { get; private set; }

    /// <summary>Mean loss per token (nats); NaN when nothing was scored, as PyTorch's mean.</summary>
    public double MeanNll => NllSum / WeightSum;

    public double Perplexity => Math.Exp(MeanNll);

    public double BitsPerToken => MeanNll / Math.Log(2);

    public double MeanEntropy => EntropySum / Tokens;

    public double Top1Accuracy => (double)Top1Hits / Tokens;

    /// <summary>Adds totals computed elsewhere.</summary>
    public void Add(long tokens, long ignored, double nllSum, double weightSum, double entropySum = 0, long top1Hits = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(tokens);
        ArgumentOutOfRangeException.ThrowIfNegative(ignored);
        Tokens += tokens;
        Ignored += ignored;
        NllSum += nllSum;
        WeightSum += weightSum;
        EntropySum += entropySum;
        Top1Hits += top1Hits;
    }

    /// <summary>Adds per-token negative log-likelihoods (each token weighing 1).</summary>
    public void AddTokens(ReadOnlySpan<float> nll)
    {
        double sum = 0;
        foreach (float v in nll)
        {
            sum += v;
        }

        Add(nll.Length, 0, sum, nll.Length);
    }

    public void Merge(PerplexityAccumulator other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Add(other.Tokens, other.Ignored, other.NllSum, other.WeightSum, other.EntropySum, other.Top1Hits);
    }
}
