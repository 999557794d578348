using ILGPU.Algorithms;

namespace GpuInfo.Kernels;

/// <summary>
/// One-pass (online) softmax statistics of a row x at temperature T: the running raw max, Σ e^g
/// without the max entry's own 1 (the tail, so that a near-one-hot row keeps its tail's digits: 1 + tail
/// in float32 loses every entry below 6e-8), Σ e^g·g for the entropy (g = (x - max)/T) and, when paired with another row x', the KL terms of
/// <see cref="KlMath"/> with d = (x' - x)/T: Σ e^g·(x - x')/T, and Σ e^g·φ(d - c) and Σ e^g·(d - c)
/// around a shift c (the d of the entry holding the max), φ(u) = e^u - 1 - u.
/// Accumulators merge associatively, so a row can be split over threads, groups and cores.
/// NaN or +inf entries poison <see cref="Tail"/> (or make the max +inf): the facade reports such rows.
/// </summary>
public struct SoftmaxAccumulator
{
    /// <summary>Running max of the raw logits; -inf while no finite entry was seen.</summary>
    public float Max;

    /// <summary>
    /// Σ exp((x - Max)/T) over every entry but the first one holding <see cref="Max"/> (whose term is
    /// exactly 1); ties with the max count 1 each. While no finite entry was seen: 0 (NaN if a NaN came).
    /// </summary>
    public float Tail;

    /// <summary>Σ exp(d)·d, d = (x - Max)/T.</summary>
    public float EntropyAcc;

    /// <summary>
    /// Σ exp(2(x - Max)/T) over the entries <see cref="Tail"/> sums (the max's own 1 implicit, as
    /// there): with the tail, Σp² of the row (<see cref="SquaredProbabilitySum"/>) and the Brier score.
    /// </summary>
    public float SquareTail;

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

    /// <summary>
    /// The largest raw logit of this side at an entry the other side masks (-inf, so q = 0 there);
    /// -inf when there is none (pairs only). Whether it makes KL infinite is decided once, from the
    /// row's final <see cref="Max"/> and sum (<see cref="OtherMasksMass"/>), so the answer does not
    /// depend on the order entries are met in, or on how a backend's exp treats subnormals.
    /// </summary>
    public float MaskedMax;

    public static SoftmaxAccumulator Empty => new() { Max = float.NegativeInfinity, MaskedMax = float.NegativeInfinity };

    /// <summary>An empty accumulator whose sums will be kept relative to <paramref name="max"/> and the KL shift <paramref name="shift"/>.</summary>
    public static SoftmaxAccumulator Frame(float max, float shift) =>
        new() { Max = max, Shift = shift, MaskedMax = float.NegativeInfinity };

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
            // NaN lands here and poisons the tail.
            float d = (x - Max) * invT;
            float e = XMath.Exp(d);
            Tail += e;
            SquareTail += e * e;
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

        if (other == float.NegativeInfinity)
        {
            AddMasked(x, invT);
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
                // x - x' overflowed (logits near ±3.4e38): the KL sums are infinite and the facade
                // takes the row in float64. The shift stays finite.
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
            Tail += e;
            SquareTail += e * e;
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
    /// An entry the other side masks: its mass counts in this side's softmax and entropy, not in the
    /// KL sums (q = 0 there: <see cref="MaskedMax"/> decides whether KL is infinite). Becoming the
    /// running max, it rescales the KL sums and leaves the shift where it was (it has no d of its own).
    /// </summary>
    private void AddMasked(float x, float invT)
    {
        // A NaN x fails both comparisons and poisons the tail through Add.
        if (x > MaskedMax)
        {
            MaskedMax = x;
        }

        if (x > Max)
        {
            float c = NewMax(x, invT, out _);
            ValueAcc = SoftmaxMath.RescaleWeighted(ValueAcc, c);
            CurvatureAcc = SoftmaxMath.RescaleWeighted(CurvatureAcc, c);
            ShiftAcc = SoftmaxMath.RescaleWeighted(ShiftAcc, c);
        }
        else
        {
            Add(x, invT);
        }
    }

    /// <summary>
    /// Starts a new running max at x; returns the factor the old sums were rescaled by, and the old
    /// weight after rescaling (all of it now tail: x's own 1 is implicit).
    /// </summary>
    private float NewMax(float x, float invT, out float oldSum)
    {
        float c = 0f;
        if (Max == float.NegativeInfinity)
        {
            // The tail is 0 here, or NaN if a NaN came first: keep the NaN.
            oldSum = Tail;
            EntropyAcc = 0f;
        }
        else
        {
            c = XMath.Exp((Max - x) * invT);
            EntropyAcc = SoftmaxMath.RescaleEntropy(EntropyAcc, SumExp, Max, x, invT, c);
            oldSum = c + c * Tail;
            Tail = oldSum;
            SquareTail = c * c * (1f + SquareTail);
        }

        Max = x;
        return c;
    }

    /// <summary>Combines two accumulators of disjoint parts of one row (the KL shift follows the larger max).</summary>
    public static SoftmaxAccumulator Merge(SoftmaxAccumulator a, SoftmaxAccumulator b, float invT)
    {
        float m = float.IsNaN(a.Max) || float.IsNaN(b.Max) ? float.NaN : XMath.Max(a.Max, b.Max);
        float shift = b.Max > a.Max ? b.Shift : a.Shift;
        var ra = Rescaled(a, m, invT, out float weightA);
        var rb = Rescaled(b, m, invT, out float weightB);
        KlMath.MoveShift(ref ra, weightA, shift, a.SumExp > 0f);
        KlMath.MoveShift(ref rb, weightB, shift, b.SumExp > 0f);
        ra.AddSameFrame(rb);
        float tie = HoldsMax(a, m) && HoldsMax(b, m) ? 1f : 0f;
        ra.Tail += tie;
        ra.SquareTail += tie;
        return ra;
    }

    /// <summary>Adds the sums of an accumulator with the same reference max and KL shift whose tail does not hold the max's 1.</summary>
    public void AddSameFrame(in SoftmaxAccumulator b)
    {
        Tail += b.Tail;
        SquareTail += b.SquareTail;
        EntropyAcc += b.EntropyAcc;
        ValueAcc += b.ValueAcc;
        CurvatureAcc += b.CurvatureAcc;
        ShiftAcc += b.ShiftAcc;
        Mismatches += b.Mismatches;
        if (b.MaskedMax > MaskedMax)
        {
            MaskedMax = b.MaskedMax;
        }
    }

    /// <summary>Whether a holds the max m (m finite or +inf): its 1 is then implicit, not in its tail.</summary>
    public static bool HoldsMax(in SoftmaxAccumulator a, float m) => a.Max == m && m != float.NegativeInfinity;

    /// <summary>
    /// This accumulator expressed relative to a max m ≥ its own (a part with no finite entry adds 0, or
    /// NaN). <paramref name="weight"/> is its whole Σe in that frame; the tail is that weight, except
    /// for a part that holds m, whose tail stays its own (m's 1 is implicit: the caller counts it once).
    /// </summary>
    public static SoftmaxAccumulator Rescaled(SoftmaxAccumulator a, float m, float invT, out float weight)
    {
        float c = SoftmaxMath.Rescale(a.Max, m, invT);
        bool holds = HoldsMax(a, m);
        weight = holds ? 1f + a.Tail : c + c * a.Tail;
        SoftmaxAccumulator r;
        r.Max = m;
        r.Tail = holds ? a.Tail : weight;
        r.SquareTail = holds ? a.SquareTail : c * c * (1f + a.SquareTail);
        r.EntropyAcc = SoftmaxMath.RescaleEntropy(a.EntropyAcc, a.SumExp, a.Max, m, invT, c);
        r.ValueAcc = SoftmaxMath.RescaleWeighted(a.ValueAcc, c);
        r.CurvatureAcc = SoftmaxMath.RescaleWeighted(a.CurvatureAcc, c);
        r.ShiftAcc = SoftmaxMath.RescaleWeighted(a.ShiftAcc, c);
        r.Shift = a.Shift;
        r.Mismatches = a.Mismatches;
        r.MaskedMax = a.MaskedMax;
        return r;
    }

    /// <summary>
    /// Moves the reference to a larger max m that an entry already in the tail holds, whose term
    /// becomes the implicit 1 (the CPU path's blocks with a new max); returns the whole Σe in the new
    /// frame. The tail is then c·(1 + tail) - 1, exact only to ~1e-7 absolute: for tails not small
    /// next to 1. The KL shift stays (see <see cref="KlMath.MoveShift"/>).
    /// </summary>
    public float Recentre(float m, float invT)
    {
        float c = SoftmaxMath.Rescale(Max, m, invT);
        float weight = c * SumExp;
        EntropyAcc = SoftmaxMath.RescaleEntropy(EntropyAcc, SumExp, Max, m, invT, c);
        ValueAcc = SoftmaxMath.RescaleWeighted(ValueAcc, c);
        CurvatureAcc = SoftmaxMath.RescaleWeighted(CurvatureAcc, c);
        ShiftAcc = SoftmaxMath.RescaleWeighted(ShiftAcc, c);
        Tail = weight - 1f;
        SquareTail = (c * c * (1f + SquareTail)) - 1f;
        Max = m;
        return weight;
    }

    /// <summary>Σ exp((x - Max)/T) over the whole row: 1 + tail, or 0 (NaN) while no finite entry was seen.</summary>
    public readonly float SumExp => Max == float.NegativeInfinity ? Tail : 1f + Tail;

    /// <summary>
    /// The probability of the entry holding the max (of each, where several tie): 1/Σ e^((x - max)/T),
    /// as a float32 softmax forms it (e^0/sum), so it is exactly 1 where the rest of the row's mass is
    /// below float32's resolution next to 1, as in PyTorch; the top-1 prediction's confidence.
    /// </summary>
    public readonly float TopProbability => 1f / SumExp;

    /// <summary>Σp² = Σe^{2g}/(Σe^g)², g = (x - max)/T: the probability that two draws from the row agree.</summary>
    public readonly float SquaredProbabilitySum => (Max == float.NegativeInfinity ? SquareTail : 1f + SquareTail) / (SumExp * SumExp);

    /// <summary>
    /// The Brier score of the row against the target with raw logit <paramref name="xTarget"/>:
    /// Σ_k (p_k - [k = target])² = (1 - p_t)² + Σ_{k≠t} p_k², in [0, 2]. Where the target holds the
    /// max, 1 - p_t = tail/s and Σ_{k≠t} p_k² = square tail/s², so a near-certain correct prediction
    /// keeps its digits; elsewhere p_t &lt; ½ and no term cancels.
    /// </summary>
    public readonly float BrierScore(float xTarget, float invT)
    {
        float s = SumExp;
        if (xTarget == Max)
        {
            float miss = Tail / s;
            return (miss * miss) + (SquareTail / (s * s));
        }

        float p = XMath.Exp(-NegativeLogProb(xTarget, invT));
        return ((1f - p) * (1f - p)) + SquaredProbabilitySum - (p * p);
    }

    /// <summary>log Σ exp((x - Max)/T), with the tail's digits kept (log1p).</summary>
    public readonly float LogSum => Max == float.NegativeInfinity ? XMath.Log(Tail) : SoftmaxMath.Log1P(Tail);

    /// <summary>log Σ e^{x/T}.</summary>
    public readonly float LogSumExp(float invT) => Max * invT + LogSum;

    /// <summary>-Σ p log p (nats): log s - t/s.</summary>
    public readonly float Entropy => LogSum - EntropyAcc / SumExp;

    /// <summary>-log p of an entry with raw logit x: (max - x)/T + log s, without cancelling two large numbers.</summary>
    public readonly float NegativeLogProb(float x, float invT) => (Max - x) * invT + LogSum;

    /// <summary>B = E_p[e^{d - c}] - 1 = e^{-c}·Z'/Z - 1 when the supports agree (see <see cref="KlMath"/>).</summary>
    public readonly float RatioMinusOne => (CurvatureAcc + ShiftAcc) / SumExp;

    /// <summary>
    /// Whether the other side masks an entry to which this side gives a probability float32 holds
    /// (log p = (x - max)/T - log s ≥ <see cref="KlMath.MaskedMassFloor"/>, ln 2^-149): the KL from this
    /// side is then infinite. Entries further down have p = 0 in float32 and count as 0.
    /// </summary>
    public readonly bool OtherMasksMass(float invT) =>
        MaskedMax != float.NegativeInfinity && !(((MaskedMax - Max) * invT) - LogSum < KlMath.MaskedMassFloor);

    /// <summary>
    /// True when the KL of this side can use the cancellation-free form: the supports agree (no
    /// mismatch, and any entry the other side masks is below e^-30 of the top, where it cannot change a
    /// float32 sum) and B is small.
    /// </summary>
    public readonly bool UsesCurvatureForm(float invT)
    {
        float b = RatioMinusOne;
        bool maskedNegligible = MaskedMax == float.NegativeInfinity || (MaskedMax - Max) * invT < KlMath.NegligibleGap;
        return Mismatches == 0f && maskedNegligible && b >= -KlMath.MaxRatioDeviation && b <= KlMath.MaxRatioDeviation;
    }
}
