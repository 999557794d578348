using ILGPU.Algorithms;

namespace GpuInfo.Kernels;

/// <summary>
/// One-pass (online) softmax statistics of a row x at temperature T: the running raw max, Σ e^d,
/// Σ e^d·d for the entropy (d = (x - max)/T) and, when paired with another row x', the KL terms
/// Σ e^d·v and Σ e^d·φ(-v) with v = (x - x')/T and φ(u) = e^u - 1 - u (see <see cref="KlMath"/>).
/// Accumulators merge associatively, so a row can be split over threads, groups and cores.
/// NaN or +inf entries poison <see cref="SumExp"/> (or make the max +inf): the facade reports such rows.
/// </summary>
public struct SoftmaxAccumulator
{
    /// <summary>Running max of the raw logits; -inf while no finite entry was seen.</summary>
    public float Max;

    /// <summary>Σ exp((x - Max)/T).</summary>
    public float SumExp;

    /// <summary>Σ exp(d)·d, d = (x - Max)/T.</summary>
    public float EntropyAcc;

    /// <summary>Σ exp(d)·(x - x')/T, pairs only.</summary>
    public float ValueAcc;

    /// <summary>Σ exp(d)·φ((x' - x)/T), pairs only.</summary>
    public float CurvatureAcc;

    /// <summary>
    /// Entries where this side has no representable mass (-inf, or exp underflow) but the other side
    /// has some: KL then falls back to the classic formula (pairs only).
    /// </summary>
    public float Mismatches;

    public static SoftmaxAccumulator Empty => new() { Max = float.NegativeInfinity };

    /// <summary>Folds one raw logit. -inf entries carry no mass and are skipped.</summary>
    public void Add(float x, float invT)
    {
        if (x == float.NegativeInfinity)
        {
            return;
        }

        if (x > Max)
        {
            NewMax(x, invT);
        }
        else
        {
            // NaN lands here and poisons SumExp.
            float d = (x - Max) * invT;
            float e = XMath.Exp(d);
            SumExp += e;
            EntropyAcc += e * XMath.Max(d, SoftmaxMath.Floor);
        }
    }

    /// <summary>Folds one raw logit x of this side with the other side's x' at the same column.</summary>
    public void Add(float x, float other, float invT)
    {
        if (x == float.NegativeInfinity)
        {
            Mismatches += other > float.NegativeInfinity ? 1f : 0f;
            return;
        }

        float v = (x - other) * invT;
        if (x > Max)
        {
            float c = NewMax(x, invT);
            ValueAcc = SoftmaxMath.RescaleWeighted(ValueAcc, c) + v;
            CurvatureAcc = SoftmaxMath.RescaleWeighted(CurvatureAcc, c) + KlMath.Phi(-v);
        }
        else
        {
            float d = (x - Max) * invT;
            float e = XMath.Exp(d);
            SumExp += e;
            EntropyAcc += e * XMath.Max(d, SoftmaxMath.Floor);
            float otherGap = (other - Max) * invT;
            if (e == 0f)
            {
                Mismatches += otherGap > KlMath.NegligibleGap ? 1f : 0f;
            }
            else
            {
                ValueAcc += e * v;
                CurvatureAcc += KlMath.WeightedPhi(e, -v, otherGap);
            }
        }
    }

    /// <summary>Starts a new running max at x; returns the factor the old sums were rescaled by.</summary>
    private float NewMax(float x, float invT)
    {
        float c = 0f;
        if (Max == float.NegativeInfinity)
        {
            // SumExp is 0 here, or NaN if a NaN came first: keep the NaN.
            SumExp += 1f;
            EntropyAcc = 0f;
        }
        else
        {
            c = XMath.Exp((Max - x) * invT);
            EntropyAcc = SoftmaxMath.RescaleEntropy(EntropyAcc, SumExp, Max, x, invT, c);
            SumExp = SumExp * c + 1f;
        }

        Max = x;
        return c;
    }

    /// <summary>Combines two accumulators of disjoint parts of one row.</summary>
    public static SoftmaxAccumulator Merge(SoftmaxAccumulator a, SoftmaxAccumulator b, float invT)
    {
        float m = float.IsNaN(a.Max) || float.IsNaN(b.Max) ? float.NaN : XMath.Max(a.Max, b.Max);
        var ra = Rescaled(a, m, invT);
        var rb = Rescaled(b, m, invT);
        ra.SumExp += rb.SumExp;
        ra.EntropyAcc += rb.EntropyAcc;
        ra.ValueAcc += rb.ValueAcc;
        ra.CurvatureAcc += rb.CurvatureAcc;
        ra.Mismatches += rb.Mismatches;
        return ra;
    }

    /// <summary>This accumulator expressed relative to a larger max m (a part with no finite entry adds 0, or NaN).</summary>
    public static SoftmaxAccumulator Rescaled(SoftmaxAccumulator a, float m, float invT)
    {
        float c = SoftmaxMath.Rescale(a.Max, m, invT);
        SoftmaxAccumulator r;
        r.Max = m;
        r.SumExp = a.SumExp * c;
        r.EntropyAcc = SoftmaxMath.RescaleEntropy(a.EntropyAcc, a.SumExp, a.Max, m, invT, c);
        r.ValueAcc = SoftmaxMath.RescaleWeighted(a.ValueAcc, c);
        r.CurvatureAcc = SoftmaxMath.RescaleWeighted(a.CurvatureAcc, c);
        r.Mismatches = a.Mismatches;
        return r;
    }

    /// <summary>log Σ e^{x/T}.</summary>
    public readonly float LogSumExp(float invT) => SoftmaxMath.LogSumExp(Max, SumExp, invT);

    /// <summary>-Σ p log p (nats).</summary>
    public readonly float Entropy => SoftmaxMath.Entropy(SumExp, EntropyAcc);

    /// <summary>B = E_p[e^{(x'-x)/T}] - 1 = Z'/Z - 1 when the supports agree (see <see cref="KlMath"/>).</summary>
    public readonly float RatioMinusOne => (CurvatureAcc - ValueAcc) / SumExp;

    /// <summary>True when the KL of this side can use the cancellation-free form.</summary>
    public readonly bool UsesCurvatureForm
    {
        get
        {
            float b = RatioMinusOne;
            return Mismatches == 0f && b >= -KlMath.MaxRatioDeviation && b <= KlMath.MaxRatioDeviation;
        }
    }
}
