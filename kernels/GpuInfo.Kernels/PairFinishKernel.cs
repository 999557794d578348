using ILGPU;

namespace GpuInfo.Kernels;

/// <summary>
/// Stage 2 of the two-input measures, one thread per row: merges slices and writes both
/// log-sum-exps, KL(P||Q), KL(Q||P), H(P), both argmaxes and their probabilities and, with targets, -log p(y), -log q(y) and both Brier scores.
/// The merged statistics are left in the row's first slice slot for the Jensen-Shannon pass.
/// </summary>
public static class PairFinishKernel
{
    public static void Run<TP, TLoadP, TQ, TLoadQ>(Index1D row, ArrayView<TP> p, ArrayView<TQ> q,
        ArrayView<PairPartial> partials, int splits, int vocab, float invT, ArrayView<int> targets,
        int ignoreIndex, PairOutputs outputs)
        where TP : unmanaged
        where TLoadP : struct, ILogitLoader<TP>
        where TQ : unmanaged
        where TLoadQ : struct, ILogitLoader<TQ>
    {
        long first = (long)row.X * splits;
        var acc = partials[first];
        for (int s = 1; s < splits; s++)
        {
            acc = PairPartial.Merge(acc, partials[first + s], invT);
        }

        partials[first] = acc; // the Jensen-Shannon pass reads the merged row here
        outputs.LseP[row] = acc.P.LogSumExp(invT);
        outputs.LseQ[row] = acc.Q.LogSumExp(invT);
        if (outputs.KlForward.Length > 0)
        {
            outputs.KlForward[row] = acc.KlForward(invT);
        }

        if (outputs.KlReverse.Length > 0)
        {
            outputs.KlReverse[row] = acc.KlReverse(invT);
        }

        if (outputs.EntropyP.Length > 0)
        {
            outputs.EntropyP[row] = acc.P.Entropy;
        }

        if (outputs.ArgMaxP.Length > 0)
        {
            outputs.ArgMaxP[row] = acc.TopP.Result;
            outputs.ArgMaxQ[row] = acc.TopQ.Result;
        }

        if (outputs.ConfidenceP.Length > 0)
        {
            outputs.ConfidenceP[row] = acc.P.TopProbability;
            outputs.ConfidenceQ[row] = acc.Q.TopProbability;
        }

        if (outputs.NllP.Length > 0)
        {
            int y = targets[row];
            float nllP = 0f;
            float nllQ = 0f;
            float ratio = 0f;
            float brierP = 0f;
            float brierQ = 0f;
            if (y != ignoreIndex)
            {
                long at = (long)row.X * vocab + y;
                float xp = default(TLoadP).Load(p[at]), xq = default(TLoadQ).Load(q[at]);
                nllP = acc.P.NegativeLogProb(xp, invT);
                nllQ = acc.Q.NegativeLogProb(xq, invT);
                ratio = KlMath.LogRatio(acc.P, acc.Q, xp, xq, invT);
                if (outputs.BrierP.Length > 0)
                {
                    brierP = acc.P.BrierScore(xp, invT);
                    brierQ = acc.Q.BrierScore(xq, invT);
                }
            }

            outputs.NllP[row] = nllP;
            outputs.NllQ[row] = nllQ;
            outputs.LogRatio[row] = ratio;
            if (outputs.BrierP.Length > 0)
            {
                outputs.BrierP[row] = brierP;
                outputs.BrierQ[row] = brierQ;
            }
        }
    }
}
