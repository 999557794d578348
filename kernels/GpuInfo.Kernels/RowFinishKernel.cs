using ILGPU;

namespace GpuInfo.Kernels;

/// <summary>
/// Stage 2 of the single-input measures, one thread per row: merges the row's slices and writes
/// log-sum-exp, entropy, the cross-entropy loss and the Brier score (reading the target's logit), the argmax and its probability.
/// </summary>
public static class RowFinishKernel
{
    public static void Run<T, TLoad>(Index1D row, ArrayView<T> logits, ArrayView<RowPartial> partials,
        int splits, CrossEntropyParams ce, ArrayView<int> targets, ArrayView<float> weights, RowOutputs outputs)
        where T : unmanaged
        where TLoad : struct, ILogitLoader<T>
    {
        long first = (long)row.X * splits;
        var acc = partials[first];
        for (int s = 1; s < splits; s++)
        {
            acc = RowPartial.Merge(acc, partials[first + s], ce.InvTemperature);
        }

        float lse = acc.Softmax.LogSumExp(ce.InvTemperature);
        outputs.Lse[row] = lse;
        if (outputs.Entropy.Length > 0)
        {
            outputs.Entropy[row] = acc.Softmax.Entropy;
        }

        if (outputs.ArgMax.Length > 0)
        {
            outputs.ArgMax[row] = acc.Top.Result;
        }

        if (outputs.Confidence.Length > 0)
        {
            outputs.Confidence[row] = acc.Softmax.TopProbability;
        }

        if (outputs.Loss.Length > 0)
        {
            int y = targets[row];
            float loss = 0f;
            float brier = 0f;
            if (y != ce.IgnoreIndex)
            {
                float xy = default(TLoad).Load(logits[(long)row.X * ce.Vocab + y]);
                loss = acc.CrossEntropy(ce, xy, ce.HasWeights != 0 ? weights[y] : 1f);
                brier = outputs.Brier.Length > 0 ? acc.Softmax.BrierScore(xy, ce.InvTemperature) : 0f;
            }

            outputs.Loss[row] = loss;
            if (outputs.Brier.Length > 0)
            {
                outputs.Brier[row] = brier;
            }
        }
    }
}
