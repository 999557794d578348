using ILGPU.Algorithms;

namespace GpuInfo.Kernels;

/// <summary>
/// One-pass (online) softmax statistics of a row x at temperature T: the running raw max, Σ e^g,
/// Σ e^g·g for the entropy (g = (x - max)/T) and, when paired with another row x', the KL terms of
/// <see cref="KlMath"/> with d = (x' - x)/T: Σ e^g·(x - x')/T, and Σ e^g·φ(d - c) and Σ e^g·(d - c)
/// around a shift c (the d of the entry holding the max), φ(u) = e^u - 1 - u.
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

    /// <summary>Σ exp(g)·φ(d - Shift), pairs only.</summary>
    public float CurvatureAcc;

    /// <summary>Σ exp(g)·(d - Shift), pairs only.</summary>
    public float ShiftAcc;

    /// <summary>c: the d = (x' - x)/T of the entry holding <see cref="Max"/>, pairs only.</summary>
    public float Shift;

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
            NewMax(x, invT, out _);
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
            // Rescale to the new max, move the shift to this entry's d (where its own term is 0), then add it.
            bool first = Max == float.NegativeInfinity;
            float c = NewMax(x, invT, out float oldSum);
            ValueAcc = SoftmaxMath.RescaleWeighted(ValueAcc, c) + v;
            CurvatureAcc = SoftmaxMath.RescaleWeighted(CurvatureAcc, c);
            ShiftAcc = SoftmaxMath.RescaleWeighted(ShiftAcc, c);
            if (!float.IsFinite(v))
            {
                // q = 0 at this entry: the KL is infinite (classic form); the shift stays finite.
                CurvatureAcc += KlMath.Phi(-v - Shift);
                ShiftAcc += -v - Shift;
            }
            else if (first)
            {
                Shift = -v;
            }
            else
            {
                KlMath.MoveShift(ref this, oldSum, -v, hadWeight: true);
            }
        }
        else
        {
            float g = (x - Max) * invT;
            float e = XMath.Exp(g);
            SumExp += e;
            EntropyAcc += e * XMath.Max(g, SoftmaxMath.Floor);
            float otherGap = (other - Max) * invT;
            if (e == 0f)
            {
                // P vanishes here; Q's mass counts relative to Q at P's max (otherGap − Shift), not to P's max.
                Mismatches += otherGap - Shift > KlMath.NegligibleGap ? 1f : 0f;
            }
            else
            {
                float u = -v - Shift;
                ValueAcc += e * v;
                ShiftAcc += e * u;
                CurvatureAcc += KlMath.WeightedPhi(e, u, otherGap - Shift);
            }
        }
    }

    /// <summary>
    /// Starts a new running max at x; returns the factor the old sums were rescaled by, and the old
    /// weight sum after rescaling (before this entry's 1 was added).
    /// </summary>
    private float NewMax(float x, float invT, out float oldSum)
    {
        float c = 0f;
        if (Max == float.NegativeInfinity)
        {
            // SumExp is 0 here, or NaN if a NaN came first: keep the NaN.
            oldSum = SumExp;
            SumExp += 1f;
            EntropyAcc = 0f;
        }
        else
        {
            c = XMath.Exp((Max - x) * invT);
            EntropyAcc = SoftmaxMath.RescaleEntropy(EntropyAcc, SumExp, Max, x, invT, c);
            oldSum = SumExp * c;
            SumExp = oldSum + 1f;
        }

        Max = x;
        return c;
    }

    /// <summary>Combines two accumulators of disjoint parts of one row (the KL shift follows the larger max).</summary>
    public static SoftmaxAccumulator Merge(SoftmaxAccumulator a, SoftmaxAccumulator b, float invT)
    {
        float m = float.IsNaN(a.Max) || float.IsNaN(b.Max) ? float.NaN : XMath.Max(a.Max, b.Max);
        float shift = b.Max > a.Max ? b.Shift : a.Shift;
        var ra = Rescaled(a, m, invT);
        var rb = Rescaled(b, m, invT);
        KlMath.MoveShift(ref ra, ra.SumExp, shift, a.SumExp > 0f);
        KlMath.MoveShift(ref rb, rb.SumExp, shift, b.SumExp > 0f);
        ra.AddSameFrame(rb);
        return ra;
    }

    /// <summary>Adds the sums of an accumulator with the same reference max and KL shift.</summary>
    public void AddSameFrame(in SoftmaxAccumulator b)
    {
        SumExp += b.SumExp;
        EntropyAcc += b.EntropyAcc;
        ValueAcc += b.ValueAcc;
        CurvatureAcc += b.CurvatureAcc;
        ShiftAcc += b.ShiftAcc;
        Mismatches += b.Mismatches;
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
        r.ShiftAcc = SoftmaxMath.RescaleWeighted(a.ShiftAcc, c);
        r.Shift = a.Shift;
        r.Mismatches = a.Mismatches;
        return r;
    }

    /// <summary>log Σ e^{x/T}.</summary>
    public readonly float LogSumExp(float invT) => SoftmaxMath.LogSumExp(Max, SumExp, invT);

    /// <summary>-Σ p log p (nats).</summary>
    public readonly float Entropy => SoftmaxMath.Entropy(SumExp, EntropyAcc);

    /// <summary>B = E_p[e^{d - c}] - 1 = e^{-c}·Z'/Z - 1 when the supports agree (see <see cref="KlMath"/>).</summary>
    public readonly float RatioMinusOne => (CurvatureAcc + ShiftAcc) / SumExp;

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
