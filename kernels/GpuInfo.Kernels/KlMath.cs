using ILGPU.Algorithms;

namespace GpuInfo.Kernels;

/// <summary>
/// Cancellation-free KL. With d = z_q - z_p and B = E_p[e^d] - 1 (= Z_q/Z_p - 1 when every entry
/// with q &gt; 0 has p &gt; 0), KL(P||Q) = E_p[-d] + log(1 + B) = E_p[φ(d)] - h(B), where
/// φ(d) = e^d - 1 - d ≥ 0 and h(B) = B - log(1 + B) ≥ 0. Neither part cancels, so KL keeps its
/// relative accuracy even when it is 1e-8 (the classic Σp·(z_p - z_q) - (lse_p - lse_q) loses it:
/// two O(1) numbers that agree to many digits). Rows with mismatched supports, or normalisers far
/// apart (|B| &gt; ½, where cancellation is no issue), use the classic form.
/// </summary>
public static class KlMath
{
    /// <summary>Beyond this |B| the classic form is used.</summary>
    public const float MaxRatioDeviation = 0.5f;

    /// <summary>Mass below e^-30 of the max cannot change a float32 sum: ignore it.</summary>
    public const float NegligibleGap = -30f;

    /// <summary>φ(d) = e^d - 1 - d; a Taylor series for |d| &lt; ½ (relative error &lt; 3e-9).</summary>
    public static float Phi(float d) =>
        XMath.Abs(d) < 0.5f ? PhiSeries(d) : XMath.Exp(d) - 1f - d;

    /// <summary>
    /// e·φ(d) for an entry of weight e = e^{(x-max)/T}, where e·e^d = e^{(x'-max)/T} is taken from
    /// <paramref name="otherMinusMax"/> (that scaled gap) so that it cannot overflow when d is large.
    /// </summary>
    public static float WeightedPhi(float e, float d, float otherMinusMax)
    {
        if (XMath.Abs(d) < 0.5f)
        {
            return e * PhiSeries(d);
        }

        return d == float.NegativeInfinity
            ? float.PositiveInfinity
            : XMath.Exp(otherMinusMax) - e - e * d;
    }

    public static float PhiSeries(float d) =>
        d * d * (1f / 2f + d * (1f / 6f + d * (1f / 24f + d * (1f / 120f + d * (1f / 720f
            + d * (1f / 5040f + d * (1f / 40320f + d * (1f / 362880f))))))));

    /// <summary>h(B) = B - log(1 + B); a series for |B| &lt; 0.1.</summary>
    public static float H(float b)
    {
        if (XMath.Abs(b) >= 0.1f)
        {
            return b - XMath.Log(1f + b);
        }

        return b * b * (1f / 2f + b * (-1f / 3f + b * (1f / 4f + b * (-1f / 5f + b * (1f / 6f
            + b * (-1f / 7f + b * (1f / 8f)))))));
    }

    /// <summary>KL(P||Q) from P's side of a pair pass (Q's accumulator supplies the classic fallback).</summary>
    public static float Kl(SoftmaxAccumulator p, SoftmaxAccumulator q, float invT)
    {
        if (p.UsesCurvatureForm)
        {
            return p.CurvatureAcc / p.SumExp - H(p.RatioMinusOne);
        }

        return p.ValueAcc / p.SumExp - ClassicLseDifference(p, q, invT);
    }

    /// <summary>lse_p - lse_q, from B when it is accurate (-log(1+B)), else from maxes and sums.</summary>
    public static float LseDifference(SoftmaxAccumulator p, SoftmaxAccumulator q, float invT)
    {
        if (p.UsesCurvatureForm)
        {
            float b = p.RatioMinusOne;
            return H(b) - b;
        }

        return ClassicLseDifference(p, q, invT);
    }

    private static float ClassicLseDifference(SoftmaxAccumulator p, SoftmaxAccumulator q, float invT) =>
        (p.Max - q.Max) * invT + XMath.Log(p.SumExp / q.SumExp);
}
