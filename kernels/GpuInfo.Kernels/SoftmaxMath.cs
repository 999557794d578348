using ILGPU.Algorithms;

namespace GpuInfo.Kernels;

/// <summary>
/// Scalar pieces of the online softmax shared by the kernels and the CPU path, so both finish a row
/// with the same arithmetic.
/// </summary>
public static class SoftmaxMath
{
    /// <summary>Values below this (relative to the running max) contribute exactly 0 in float32.</summary>
    public const float Floor = -1.0e4f;

    /// <summary>exp(from - to) for rescaling a running sum to a larger max; 0 when nothing was accumulated.</summary>
    public static float Rescale(float from, float to) =>
        from == float.NegativeInfinity ? 0f : XMath.Exp(from - to);

    /// <summary>
    /// Rescales an entropy accumulator Σ e^{z-from}(z-from) to Σ e^{z-to}(z-to), given the sum
    /// s = Σ e^{z-from} it was built with and c = exp(from - to).
    /// </summary>
    public static float RescaleEntropy(float acc, float sum, float from, float to, float c) =>
        c == 0f ? 0f : c * (acc + (from - to) * sum);

    /// <summary>Rescales a weighted sum Σ e^{z-from}·v by c = exp(from - to); 0 when c underflowed.</summary>
    public static float RescaleWeighted(float acc, float c) => c == 0f ? 0f : c * acc;

    /// <summary>log Σ exp(z) from its running max and rescaled sum.</summary>
    public static float LogSumExp(float max, float sum) => max + XMath.Log(sum);

    /// <summary>Entropy -Σ p log p in nats from log s - t/s.</summary>
    public static float Entropy(float sum, float entropyAcc) => XMath.Log(sum) - entropyAcc / sum;

    /// <summary>-log p_y = (max - z_y) + log s, written this way to avoid cancelling two large numbers.</summary>
    public static float NegativeLogProb(float max, float sum, float zTarget) => (max - zTarget) + XMath.Log(sum);

    /// <summary>
    /// Per-row cross-entropy as PyTorch defines it, plus z-loss:
    /// (1-e)·w_y·nll + e·(W·lse - Σ w_j z_j)/V + zloss·lse². Unweighted: W = V and Σ w_j z_j = Σ z_j.
    /// </summary>
    public static float CrossEntropy(in CrossEntropyParams p, float lse, float nll, float weightY, float sumZ, float sumWZ)
    {
        float loss = (1f - p.LabelSmoothing) * weightY * nll;
        if (p.LabelSmoothing != 0f)
        {
            float smooth = p.HasWeights != 0
                ? (p.WeightSum * lse - sumWZ) / p.Vocab
                : lse - sumZ / p.Vocab;
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
