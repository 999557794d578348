using ILGPU;
using ILGPU.Algorithms;

namespace GpuInfo.Kernels;

/// <summary>
/// Jensen-Shannon divergence and total variation distance need both normalisers before they can weigh
/// an entry, so they are a second pass: one group per row slice sums ½[p·log(p/m) + q·log(q/m)],
/// m = (p+q)/2, and ½|p − q|, reading each row's merged <see cref="PairPartial"/> (left in the row's
/// first slot by <see cref="PairFinishKernel"/>). Slices of one row are added by <see cref="SumSlices"/>.
/// </summary>
public static class JensenShannonKernel
{
    public static void Run<TP, TLoadP, TQ, TLoadQ>(ArrayView<TP> p, ArrayView<TQ> q, SliceShape shape,
        float invT, ArrayView<PairPartial> merged, ArrayView<float> sums, ArrayView<float> tvSums)
        where TP : unmanaged
        where TLoadP : struct, ILogitLoader<TP>
        where TQ : unmanaged
        where TLoadQ : struct, ILogitLoader<TQ>
    {
        var slice = RowSlice.Current(shape.Splits, shape.SplitLength, shape.Vocab);
        var row = merged[(long)slice.Row * shape.Splits];
        var norm = new JsNormalizers(row, invT);
        var fold = new Fold { Norm = norm };
        fold = SliceReader.Read<TP, TLoadP, TQ, TLoadQ, Fold>(p, q, slice, shape.Misalign, shape.MisalignQ, fold);
        float js = GroupMerge.Sum(fold.Js);
        float tv = GroupMerge.Sum(fold.Tv);
        if (Group.IsFirstThread)
        {
            sums[Grid.IdxX] = js;
            tvSums[Grid.IdxX] = tv;
        }
    }

    private struct Fold : IPairColumnFold
    {
        public float Js;
        public float Tv;
        public JsNormalizers Norm;

        public void Add(float xp, float xq, int column)
        {
            var t = Terms(xp, xq, Norm);
            Js += t.Js;
            Tv += t.Tv;
        }
    }

    /// <summary>
    /// One entry's ½[p log(p/m) + q log(q/m)] (nats) and ½|p − q| from raw logits. With
    /// d = log p − log q they are ½·p·g(d) and ½·p·|1 − e^−d|; near d = 0 the direct forms cancel, so
    /// |d| &lt; ½ uses the Taylor series of g and of (1 − e^−d)/d (relative error &lt; 2e-8 there).
    /// </summary>
    public static PairTerms Terms(float xp, float xq, JsNormalizers n)
    {
        if (xp == float.NegativeInfinity && xq == float.NegativeInfinity)
        {
            return default;
        }

        float lp = (xp - n.MaxP) * n.InvT - n.LogSumP;
        float d = (xp - xq) * n.InvT - n.LseDifference;
        if (XMath.Abs(d) < 0.5f)
        {
            float half = 0.5f * XMath.Exp(lp);
            return new PairTerms(half * Series(d), half * XMath.Abs(d) * DifferenceSeries(d));
        }

        float lq = (xq - n.MaxQ) * n.InvT - n.LogSumQ;
        float hi = XMath.Max(lp, lq);
        float lo = XMath.Min(lp, lq);
        float lm = hi + XMath.Log(1f + XMath.Exp(lo - hi)) - 0.6931472f;
        float p = XMath.Exp(lp);
        float q = XMath.Exp(lq);
        float t = 0f;
        if (xp > float.NegativeInfinity)
        {
            t += p * (lp - lm);
        }

        if (xq > float.NegativeInfinity)
        {
            t += q * (lq - lm);
        }

        return new PairTerms(0.5f * t, 0.5f * XMath.Abs(p - q));
    }

    /// <summary>g(d) = d²/4 - d³/8 + d⁴/32 - d⁵/192 + d⁶/1152 - d⁷/5760 + d⁸/46080.</summary>
    public static float Series(float d) =>
        d * d * (1f / 4f + d * (-1f / 8f + d * (1f / 32f + d * (-1f / 192f + d * (1f / 1152f
            + d * (-1f / 5760f + d * (1f / 46080f)))))));

    /// <summary>(1 − e^−d)/d = 1 − d/2 + d²/6 − d³/24 + d⁴/120 − d⁵/720 + d⁶/5040 − d⁷/40320, positive for |d| &lt; ½.</summary>
    public static float DifferenceSeries(float d) =>
        1f + d * (-1f / 2f + d * (1f / 6f + d * (-1f / 24f + d * (1f / 120f + d * (-1f / 720f
            + d * (1f / 5040f + d * (-1f / 40320f)))))));

    /// <summary>Adds the per-slice sums of each row: output[row] = Σ_s sums[row·splits + s].</summary>
    public static void SumSlices(Index1D row, ArrayView<float> sums, int splits, ArrayView<float> output)
    {
        long first = (long)row.X * splits;
        float total = 0f;
        for (int s = 0; s < splits; s++)
        {
            total += sums[first + s];
        }

        output[row] = total;
    }
}

/// <summary>One entry's terms of the second pass: Jensen-Shannon (nats) and total variation.</summary>
public readonly struct PairTerms
{
    public readonly float Js;
    public readonly float Tv;

    public PairTerms(float js, float tv)
    {
        Js = js;
        Tv = tv;
    }
}

/// <summary>
/// A row's normalisers for JS and TV: log p = (x - MaxP)/T - LogSumP, likewise for q, and lse_p - lse_q
/// formed without cancellation (see <see cref="KlMath.LseDifference"/>).
/// </summary>
public readonly struct JsNormalizers
{
    public readonly float MaxP;
    public readonly float MaxQ;
    public readonly float LogSumP;
    public readonly float LogSumQ;
    public readonly float LseDifference;
    public readonly float InvT;

    public JsNormalizers(PairPartial row, float invT)
    {
        MaxP = row.P.Max;
        MaxQ = row.Q.Max;
        LogSumP = row.P.LogSum;
        LogSumQ = row.Q.LogSum;
        LseDifference = KlMath.LseDifference(row.P, row.Q, invT);
        InvT = invT;
    }
}
