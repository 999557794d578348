using ILGPU.Algorithms;

namespace GpuInfo.Kernels;

/// <summary>
/// One-pass (online) softmax statistics of a sequence z: the running max, Σ e^{z-max},
/// Σ e^{z-max}(z-max) for the entropy, and Σ e^{z-max}·v for a per-entry value v (z_p - z_q gives KL).
/// Accumulators merge associatively, so a row can be split over threads, groups and cores.
/// NaN or +inf entries poison <see cref="SumExp"/> (or make the max +inf): the facade reports such rows.
/// </summary>
public struct SoftmaxAccumulator
{
    /// <summary>Running max of z; -inf while no finite entry was seen.</summary>
    public float Max;

    /// <summary>Σ exp(z - Max).</summary>
    public float SumExp;

    /// <summary>Σ exp(z - Max)·(z - Max).</summary>
    public float EntropyAcc;

    /// <summary>Σ exp(z - Max)·v.</summary>
    public float ValueAcc;

    public static SoftmaxAccumulator Empty => new() { Max = float.NegativeInfinity };

    /// <summary>Folds one entry z with its value v. -inf entries carry no mass and are skipped.</summary>
    public void Add(float z, float v)
    {
        if (z == float.NegativeInfinity)
        {
            return;
        }

        if (z > Max)
        {
            if (Max == float.NegativeInfinity)
            {
                // SumExp is 0 here, or NaN if a NaN came first: keep the NaN.
                SumExp += 1f;
                EntropyAcc = 0f;
                ValueAcc = v;
            }
            else
            {
                float c = XMath.Exp(Max - z);
                EntropyAcc = SoftmaxMath.RescaleEntropy(EntropyAcc, SumExp, Max, z, c);
                ValueAcc = SoftmaxMath.RescaleWeighted(ValueAcc, c) + v;
                SumExp = SumExp * c + 1f;
            }

            Max = z;
        }
        else
        {
            // NaN lands here and poisons SumExp.
            float d = z - Max;
            float e = XMath.Exp(d);
            SumExp += e;
            EntropyAcc += e * XMath.Max(d, SoftmaxMath.Floor);
            ValueAcc += e == 0f ? 0f : e * v;
        }
    }

    /// <summary>Combines two accumulators of disjoint parts of one sequence.</summary>
    public static SoftmaxAccumulator Merge(SoftmaxAccumulator a, SoftmaxAccumulator b)
    {
        float m = float.IsNaN(a.Max) || float.IsNaN(b.Max) ? float.NaN : XMath.Max(a.Max, b.Max);

        // A part with no finite entry has c = 0 and adds 0 (or NaN, if it saw a NaN).
        float ca = SoftmaxMath.Rescale(a.Max, m);
        float cb = SoftmaxMath.Rescale(b.Max, m);
        SoftmaxAccumulator r;
        r.Max = m;
        r.SumExp = a.SumExp * ca + b.SumExp * cb;
        r.EntropyAcc = SoftmaxMath.RescaleEntropy(a.EntropyAcc, a.SumExp, a.Max, m, ca)
            + SoftmaxMath.RescaleEntropy(b.EntropyAcc, b.SumExp, b.Max, m, cb);
        r.ValueAcc = SoftmaxMath.RescaleWeighted(a.ValueAcc, ca) + SoftmaxMath.RescaleWeighted(b.ValueAcc, cb);
        return r;
    }

    /// <summary>log Σ e^z.</summary>
    public readonly float LogSumExp => SoftmaxMath.LogSumExp(Max, SumExp);

    /// <summary>-Σ p log p (nats).</summary>
    public readonly float Entropy => SoftmaxMath.Entropy(SumExp, EntropyAcc);

    /// <summary>Σ p·v, the softmax-weighted mean of the values.</summary>
    public readonly float MeanValue => ValueAcc / SumExp;

    /// <summary>True when the sequence had a finite max and no NaN or +inf entry.</summary>
    public readonly bool IsValid => Max > float.NegativeInfinity && Max < float.PositiveInfinity && SumExp >= 1f && SumExp < float.PositiveInfinity;
}
