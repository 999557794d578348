namespace GpuInfo.Kernels;

/// <summary>
/// One pass over a slice of a pair of rows (P from base logits, Q from test logits, both /T):
/// each side's online softmax, with Σ e^{zp-max}(zp - zq) on P's side (forward KL) and
/// Σ e^{zq-max}(zq - zp) on Q's side (reverse KL), plus both argmaxes.
/// </summary>
public struct PairPartial
{
    public SoftmaxAccumulator P;
    public SoftmaxAccumulator Q;
    public ArgMaxTracker TopP;
    public ArgMaxTracker TopQ;

    public static PairPartial Empty => new()
    {
        P = SoftmaxAccumulator.Empty,
        Q = SoftmaxAccumulator.Empty,
        TopP = ArgMaxTracker.Empty,
        TopQ = ArgMaxTracker.Empty,
    };

    public void Add(float xp, float xq, float invT, int column)
    {
        float zp = xp * invT;
        float zq = xq * invT;
        TopP.Add(xp, column);
        TopQ.Add(xq, column);
        P.Add(zp, zp - zq);
        Q.Add(zq, zq - zp);
    }

    public static PairPartial Merge(PairPartial a, PairPartial b)
    {
        PairPartial r;
        r.P = SoftmaxAccumulator.Merge(a.P, b.P);
        r.Q = SoftmaxAccumulator.Merge(a.Q, b.Q);
        r.TopP = ArgMaxTracker.Merge(a.TopP, b.TopP);
        r.TopQ = ArgMaxTracker.Merge(a.TopQ, b.TopQ);
        return r;
    }

    /// <summary>
    /// KL(P||Q) = Σp(zp - zq) - (lseP - lseQ), with lseP - lseQ formed as (maxP - maxQ) + log(sP/sQ)
    /// so that two nearly equal large log-sum-exps are never subtracted.
    /// </summary>
    public readonly float KlForward => P.MeanValue - LseDifference;

    /// <summary>KL(Q||P).</summary>
    public readonly float KlReverse => Q.MeanValue + LseDifference;

    /// <summary>lse_p - lse_q as (max_p - max_q) + log(s_p / s_q).</summary>
    public readonly float LseDifference => (P.Max - Q.Max) + ILGPU.Algorithms.XMath.Log(P.SumExp / Q.SumExp);
}
