using ILGPU.Algorithms;

namespace GpuInfo.Kernels;

/// <summary>
/// Scalar pieces of the online softmax shared by the kernels and the CPU path, so both finish a row
/// with the same arithmetic. Maxima are kept in raw logit units and only differences are scaled by
/// 1/T: (x - max)/T is nearly exact, whereas x/T - max/T carries an ulp of |x/T| per entry.
/// </summary>
public static class SoftmaxMath
{
    /// <summary>Scaled gaps below this contribute exactly 0 in float32.</summary>
    public const float Floor = -1.0e4f;

    /// <summary>exp((from - to)/T) for rescaling a running sum to a larger max; 0 when nothing was accumulated.</summary>
    public static float Rescale(float from, float to, float invT) =>
        from == float.NegativeInfinity ? 0f : XMath.Exp((from - to) * invT);

    /// <summary>
    /// Rescales an entropy accumulator Σ e^{d}·d (d = (x-from)/T) to the max <paramref name="to"/>,
    /// given the sum s = Σ e^{d} it was built with and c = exp((from - to)/T).
    /// </summary>
    public static float RescaleEntropy(float acc, float sum, float from, float to, float invT, float c) =>
        c == 0f ? 0f : c * (acc + (from - to) * invT * sum);

    /// <summary>Rescales a weighted sum Σ e^{d}·v by c; 0 when c underflowed.</summary>
    public static float RescaleWeighted(float acc, float c) => c == 0f ? 0f : c * acc;

    /// <summary>
    /// log(1 + t) for t &gt; -½ to a few ulps: below ¼ from 2·atanh(s) = 2s(1 + s²/3 + … + s¹²/13), s = t/(2 + t)
    /// (|s| ≤ ⅓), never from a log near 1 (on CUDA, ILGPU's log is lg2.approx, whose absolute error of
    /// ~1e-7 would swamp a small t); above, log(u) corrected for the rounding of u = 1 + t by t/(u - 1).
    /// XMath has no log1p, and .NET's float.LogP1 is log(1 + t), which loses t's digits.
    /// </summary>
    public static float Log1P(float t)
    {
        if (t < 0.25f)
        {
            // 2s = t·r with r = 2/(2 + t): no subnormal s to lose t's bits.
            float r = 2f / (2f + t);
            float s = 0.5f * r * t;
            float s2 = s * s;
            return t * r * (1f + s2 * (1f / 3f + s2 * (1f / 5f + s2 * (1f / 7f + s2 * (1f / 9f + s2 * (1f / 11f + s2 * (1f / 13f)))))));
        }

        float u = 1f + t;
        return u == float.PositiveInfinity ? u : XMath.Log(u) * (t / (u - 1f));
    }

    /// <summary>
    /// A sum Σ w·(x - from) over entries of total weight W, moved to the reference <paramref name="to"/> ≥ from:
    /// + W·(from - to). Unchanged when nothing of weight was folded (W = 0) or no finite entry was (from = -inf:
    /// the sum is then 0, or -inf for a -inf of nonzero weight), so that no 0·inf or -inf - -inf forms.
    /// </summary>
    public static float ShiftGapSum(float sum, float weight, float from, float to) =>
        weight == 0f || from == float.NegativeInfinity || from == to ? sum : sum + weight * (from - to);

    /// <summary>
    /// Per-row cross-entropy as PyTorch defines it, plus z-loss:
    /// (1-e)·w_y·nll + e·Σ_j w_j(lse - z_j)/V + zloss·lse². With lse - z_j = log s + (max - x_j)/T, the
    /// smoothing sum is W·log s - Σ w_j(x_j - max)/T (W = Σ_j w_j, V unweighted): two terms ≥ 0, no
    /// cancellation however large the logits. <paramref name="sumGap"/> is Σ w_j(x_j - max), raw
    /// (<see cref="RowPartial.SumGap"/>), and <paramref name="logSum"/> log s.
    /// </summary>
    public static float CrossEntropy(in CrossEntropyParams p, float lse, float logSum, float nll, float weightY, float sumGap)
    {
        float loss = (1f - p.LabelSmoothing) * weightY * nll;
        if (p.LabelSmoothing != 0f)
        {
            float smooth = p.HasWeights != 0
                ? (p.WeightSum * logSum - sumGap * p.InvTemperature) / p.Vocab
                : logSum - sumGap * p.InvTemperature / p.Vocab;
            loss += p.LabelSmoothing * smooth;
        }

        if (p.ZLoss != 0f)
        {
            loss += p.ZLoss * lse * lse;
        }

        return loss;
    }

    /// <summary>
    /// d loss / d x_k = scale/T · [p_k·((1-e)·w_y + e·W/V + 2·zloss·lse) - (1-e)·w_y·[k=y] - e·w_k/V].
    /// Returns the three per-row coefficients (of p_k, of the one-hot, of w_k).
    /// </summary>
    public static void GradientCoefficients(in CrossEntropyParams p, float lse, float weightY,
        out float ofProb, out float ofTarget, out float ofWeight)
    {
        float scale = p.GradientScale * p.InvTemperature;
        float w = p.HasWeights != 0 ? p.WeightSum / p.Vocab : 1f;
        ofProb = scale * ((1f - p.LabelSmoothing) * weightY + p.LabelSmoothing * w + 2f * p.ZLoss * lse);
        ofTarget = scale * (1f - p.LabelSmoothing) * weightY;
        ofWeight = scale * p.LabelSmoothing / p.Vocab;
    }
}
