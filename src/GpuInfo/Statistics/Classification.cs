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
    /// <c>f1_score(golds, predictions, average=...)</c> over labels of any number of classes: <see cref="F1Average.Binary"/>
    /// is <see cref="BinaryF1"/>; the others average the per-class F1, 2 TP / (2 TP + FP + FN), over the labels that are a
    /// gold or a prediction (scikit-learn's <c>unique_labels</c>): <see cref="F1Average.Micro"/> from the counts summed over
    /// them (for one label a document, the share of right predictions), <see cref="F1Average.Macro"/> their mean,
    /// <see cref="F1Average.Weighted"/> their mean weighted by how often each is the gold.
    /// </summary>
    /// <exception cref="ArgumentException">Lists of different lengths or none, or a negative label; for a binary F1, labels other than 0 and 1.</exception>
    public static double F1(ReadOnlySpan<int> golds, ReadOnlySpan<int> predictions, F1Average average)
    {
        if (average == F1Average.Binary)
        {
            return BinaryF1(golds, predictions);
        }

        var (truePositive, gold, predicted) = Counts(golds, predictions);
        if (average == F1Average.Micro)
        {
            // scikit-learn forms it from the summed precision and recall, which are both the share of right predictions.
            double share = (double)truePositive.Sum() / golds.Length;
            return share == 0 ? 0 : 2 * share * share / (share + share);
        }

        double sum = 0, weights = 0;
        for (int k = 0; k < gold.Length; k++)
        {
            if (gold[k] + predicted[k] == 0)
            {
                continue;
            }

            double f1 = 2.0 * truePositive[k] / ((2 * truePositive[k]) + (predicted[k] - truePositive[k]) + (gold[k] - truePositive[k]));
            double weight = average == F1Average.Weighted ? gold[k] : 1;
            sum += f1 * weight;
            weights += weight;
        }

        return weights == 0 ? 0 : sum / weights;
    }

    /// <summary>
    /// The mean of the per-class F1 of the <paramref name="labels"/> given, each 2 TP / (2 TP + FP + FN) and 0 where the
    /// label is neither a gold nor a prediction: <c>f1_score(golds, predictions, labels=labels, average=None,
    /// zero_division=0).mean()</c> (SuperGLUE cb's f1 over its three labels; basqueglue vaxx's over 0 and 2).
    /// </summary>
    /// <exception cref="ArgumentException">Lists of different lengths or none, a negative label, or no labels.</exception>
    public static double MeanF1OfLabels(ReadOnlySpan<int> golds, ReadOnlySpan<int> predictions, ReadOnlySpan<int> labels)
    {
        if (labels.IsEmpty)
        {
            throw new ArgumentException("no labels to average the F1 of.", nameof(labels));
        }

        var (truePositive, gold, predicted) = Counts(golds, predictions);
        double sum = 0;
        foreach (int label in labels)
        {
            long tp = label < gold.Length ? truePositive[label] : 0, g = label < gold.Length ? gold[label] : 0, p = label < gold.Length ? predicted[label] : 0;
            long denominator = (2 * tp) + (p - tp) + (g - tp);
            sum += denominator == 0 ? 0 : 2.0 * tp / denominator;
        }

        return sum / labels.Length;
    }

    /// <summary>For each class, its right predictions, its golds and its predictions.</summary>
    private static (long[] TruePositive, long[] Gold, long[] Predicted) Counts(ReadOnlySpan<int> golds, ReadOnlySpan<int> predictions)
    {
        Check(golds, predictions);
        if (golds.IsEmpty)
        {
            throw new ArgumentException("no labels.", nameof(golds));
        }

        int classes = 0;
        for (int i = 0; i < golds.Length; i++)
        {
            if (golds[i] < 0 || predictions[i] < 0)
            {
                throw new ArgumentException($"label {Math.Min(golds[i], predictions[i])} at {i}: labels are 0 or more.", nameof(golds));
            }

            classes = Math.Max(classes, Math.Max(golds[i], predictions[i]) + 1);
        }

        var (truePositive, gold, predicted) = (new long[classes], new long[classes], new long[classes]);
        for (int i = 0; i < golds.Length; i++)
        {
            gold[golds[i]]++;
            predicted[predictions[i]]++;
            truePositive[golds[i]] += golds[i] == predictions[i] ? 1 : 0;
        }

        return (truePositive, gold, predicted);
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

/// <summary>How <see cref="Classification.F1"/> averages the per-class F1 (scikit-learn's <c>average</c>).</summary>
public enum F1Average
{
    /// <summary>The F1 of label 1 against label 0 (scikit-learn's default).</summary>
    Binary,

    /// <summary>From the counts summed over every label.</summary>
    Micro,

    /// <summary>The mean of every label's F1.</summary>
    Macro,

    /// <summary>The mean of every label's F1 weighted by how often it is the gold.</summary>
    Weighted,
}
