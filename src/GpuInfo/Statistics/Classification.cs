namespace GpuInfo;

/// <summary>
/// A classifier's agreement with the gold labels over a whole task, as scikit-learn defines it (lm-evaluation-harness
/// aggregates its <c>f1</c> and <c>mcc</c> metrics with <c>sklearn.metrics.f1_score</c> and <c>matthews_corrcoef</c>).
/// </summary>
public static class Classification
{
    /// <summary>
    /// <c>f1_score(golds, predictions)</c> with its defaults (binary, positive label 1): 2 TP / (2 TP + FP + FN), 0 where
    /// there is no positive label or prediction at all (its <c>zero_division</c>).
    /// </summary>
    /// <exception cref="ArgumentException">Labels other than 0 and 1 (scikit-learn refuses multiclass targets for a binary F1), or lists of different lengths.</exception>
    public static double BinaryF1(ReadOnlySpan<int> golds, ReadOnlySpan<int> predictions)
    {
        Check(golds, predictions);
        long truePositive = 0, falsePositive = 0, falseNegative = 0;
        for (int i = 0; i < golds.Length; i++)
        {
            if (golds[i] is not (0 or 1) || predictions[i] is not (0 or 1))
            {
                throw new ArgumentException($"label {(golds[i] is not (0 or 1) ? golds[i] : predictions[i])} at {i}: a binary F1 takes labels 0 and 1.", nameof(golds));
            }

            truePositive += golds[i] & predictions[i];
            falsePositive += (1 - golds[i]) & predictions[i];
            falseNegative += golds[i] & (1 - predictions[i]);
        }

        long denominator = (2 * truePositive) + falsePositive + falseNegative;
        return denominator == 0 ? 0 : 2.0 * truePositive / denominator;
    }

    /// <summary>
    /// <c>matthews_corrcoef(golds, predictions)</c>, for any number of classes: (c·s − Σ_k p_k t_k) /
    /// √((s² − Σ p_k²)(s² − Σ t_k²)), with s the count, c the right predictions, t_k and p_k how often class k is the gold
    /// and the prediction; 0 where either factor is 0.
    /// </summary>
    /// <exception cref="ArgumentException">Lists of different lengths, or a negative label.</exception>
    public static double MatthewsCorrelation(ReadOnlySpan<int> golds, ReadOnlySpan<int> predictions)
    {
        Check(golds, predictions);
        int classes = 0;
        for (int i = 0; i < golds.Length; i++)
        {
            if (golds[i] < 0 || predictions[i] < 0)
            {
                throw new ArgumentException($"label {Math.Min(golds[i], predictions[i])} at {i}: labels are 0 or more.", nameof(golds));
            }

            classes = Math.Max(classes, Math.Max(golds[i], predictions[i]) + 1);
        }

        var gold = new long[classes];
        var predicted = new long[classes];
        long right = 0;
        for (int i = 0; i < golds.Length; i++)
        {
            gold[golds[i]]++;
            predicted[predictions[i]]++;
            right += golds[i] == predictions[i] ? 1 : 0;
        }

        double s = golds.Length, products = 0, goldSquares = 0, predictedSquares = 0;
        for (int k = 0; k < classes; k++)
        {
            products += (double)gold[k] * predicted[k];
            goldSquares += (double)gold[k] * gold[k];
            predictedSquares += (double)predicted[k] * predicted[k];
        }

        double denominator = (s * s - predictedSquares) * (s * s - goldSquares);
        return denominator == 0 ? 0 : ((right * s) - products) / Math.Sqrt(denominator);
    }

    private static void Check(ReadOnlySpan<int> golds, ReadOnlySpan<int> predictions)
    {
        if (golds.Length != predictions.Length)
        {
            throw new ArgumentException($"{golds.Length} golds for {predictions.Length} predictions.", nameof(predictions));
        }
    }
}
