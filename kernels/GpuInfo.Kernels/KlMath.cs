using ILGPU.Algorithms;

namespace GpuInfo.Kernels;

/// <summary>
/// Cancellation-free KL. With d = (x_q - x_p)/T, any shift c, and B = E_p[e^{d-c}] - 1, KL(P||Q) =
/// E_p[-(d-c)] + log(1 + B) = E_p[φ(d - c)] - h(B) whenever every entry with q &gt; 0 has p &gt; 0,
/// where φ(u) = e^u - 1 - u ≥ 0 and h(B) = B - log(1 + B) ≥ 0. The classic
/// Σp·(z_p - z_q) - (lse_p - lse_q) subtracts two O(1) numbers that agree to many digits; here,
/// with c the d of p's largest entry, both parts are small (of the order of KL, or of Var_p(d) on flat
/// rows), so a KL of 1e-8 keeps about four significant digits (absolute error ≈ 2e-12 from float32
/// sums), even for peaked rows (p_max ≈ 1). Rows with mismatched
/// supports, or far-apart distributions (|B| &gt; ½, where cancellation is no issue), use the classic form.
/// </summary>
public static class KlMath
{
    /// <summary>Beyond this |B| the classic form is used.</summary>
    public const float MaxRatioDeviation = 0.5f;

    /// <summary>Mass below e^-30 of the max cannot change a float32 sum: ignore it.</summary>
    public const float NegligibleGap = -30f;

    /// <summary>
    /// ln 2^-149, the least positive float32: an entry the other side masks makes KL infinite where this
    /// side's log-probability there is at least this (where PyTorch's float32 softmax gives it a
    /// nonzero p, and <c>kl_div</c> reads +inf); below, p is 0 in float32 and the entry counts as 0
    /// (where <c>kl_div</c> reads NaN).
    /// </summary>
    public const float MaskedMassFloor = -103.27893f;

    /// <summary>
    /// A shift moves by more than this only when the two distributions are far apart; the move itself
    /// would then cancel (terms of size S·φ(δ) ≫ the result), so such rows take the classic form.
    /// </summary>
    public const float MaxShiftMove = 1f;

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

    /// <summary>e^u - 1, accurate near 0.</summary>
    public static float ExpM1(float u) => XMath.Abs(u) < 0.5f ? PhiSeries(u) + u : XMath.Exp(u) - 1f;

    /// <summary>
    /// Moves an accumulator's KL shift to c': with δ = c' - c, Σe·φ(d - c') = e^{-δ}·G + S·φ(-δ) + U·expm1(-δ)
    /// and Σe·(d - c') = U - δ·S (G, U, S the curvature, shift and weight sums). An overflow (the two
    /// distributions are far apart) hands the row to the classic form through <see cref="SoftmaxAccumulator.Mismatches"/>.
    /// <paramref name="hadWeight"/>: whether the accumulator held any of P's weight before it was rescaled
    /// to <paramref name="weightSum"/> (an empty one, a thread or block with no entries, moves freely).
    /// </summary>
    public static void MoveShift(ref SoftmaxAccumulator a, float weightSum, float shift, bool hadWeight)
    {
        float delta = shift - a.Shift;
        a.Shift = shift;
        if (delta == 0f || !float.IsFinite(a.CurvatureAcc) || !float.IsFinite(a.ShiftAcc))
        {
            // Infinite sums (a difference of logits overflowed) stay infinite whatever the shift.
            return;
        }

        if (weightSum == 0f)
        {
            // P's earlier entries vanished at the new max (e^-104 underflows), but Q may keep its mass
            // there: relative to the new shift it is e^-δ times what it was. A far move hands the row
            // to the classic form (base [0 x 7, 104] against a flat test read KL 0 for ln 8).
            a.Mismatches += hadWeight && XMath.Abs(delta) > MaxShiftMove ? 1f : 0f;
            return;
        }

        float g = XMath.Exp(-delta) * a.CurvatureAcc + weightSum * Phi(-delta) + a.ShiftAcc * ExpM1(-delta);
        float u = a.ShiftAcc - delta * weightSum;
        if (!float.IsFinite(g) || !float.IsFinite(u) || XMath.Abs(delta) > MaxShiftMove)
        {
            // The distributions are far apart (the move would cancel, or overflow): the classic form takes the row.
            a.Mismatches += 1f;
            g = 0f;
            u = 0f;
        }

        a.CurvatureAcc = g;
        a.ShiftAcc = u;
    }

    /// <summary>
    /// h(B) = B - log(1 + B) for |B| ≤ ½ (where the curvature form uses it), without cancelling B
    /// against the log: with s = B/(2 + B), B = 2s/(1 - s) and log(1 + B) = 2·atanh(s), so
    /// h = 2s²/(1 - s) - 2s³(1/3 + s²/5 + … + s¹²/15), the second part at most 6% of the first (|s| ≤ ⅓).
    /// (B - log(1 + B) erred by 1e-5 of h(0.1) from rounding 1 + B, and on CUDA, whose log is lg2.approx, by ~2e-5.)
    /// </summary>
    public static float H(float b)
    {
        float s = b / (2f + b);
        float s2 = s * s;
        float series = 1f / 3f + s2 * (1f / 5f + s2 * (1f / 7f + s2 * (1f / 9f + s2 * (1f / 11f + s2 * (1f / 13f + s2 * (1f / 15f))))));
        return (2f * s2 / (1f - s)) - (2f * s * s2 * series);
    }

    /// <summary>KL(P||Q) from P's side of a pair pass (Q's accumulator supplies the classic fallback).</summary>
    public static float Kl(SoftmaxAccumulator p, SoftmaxAccumulator q, float invT)
    {
        if (p.OtherMasksMass(invT))
        {
            return float.PositiveInfinity;
        }

        if (p.UsesCurvatureForm(invT))
        {
            return p.CurvatureAcc / p.SumExp - H(p.RatioMinusOne);
        }

        return p.ValueAcc / p.SumExp - ClassicLseDifference(p, q, invT);
    }

    /// <summary>
    /// log q(y) - log p(y) for a target's raw logits: (lse_p - lse_q) - (x_p - x_q)/T, both parts formed
    /// without cancellation, so a change in p(target) of 1e-9 keeps its relative accuracy.
    /// </summary>
    public static float LogRatio(SoftmaxAccumulator p, SoftmaxAccumulator q, float xp, float xq, float invT) =>
        LseDifference(p, q, invT) - (xp - xq) * invT;

    /// <summary>lse_p - lse_q, from B when it is accurate (-c - log(1+B)), else from maxes and sums.</summary>
    public static float LseDifference(SoftmaxAccumulator p, SoftmaxAccumulator q, float invT)
    {
        if (p.UsesCurvatureForm(invT))
        {
            float b = p.RatioMinusOne;
            return H(b) - b - p.Shift;
        }

        return ClassicLseDifference(p, q, invT);
    }

    private static float ClassicLseDifference(SoftmaxAccumulator p, SoftmaxAccumulator q, float invT) =>
        (p.Max - q.Max) * invT + p.LogSum - q.LogSum;
}
