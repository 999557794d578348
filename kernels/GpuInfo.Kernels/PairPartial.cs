namespace GpuInfo.Kernels;

/// <summary>
/// One pass over a slice of a pair of rows (P from base logits, Q from test logits, both at
/// temperature T): each side's online softmax with its KL terms (forward KL on P's side, reverse on
/// Q's), plus both argmaxes.
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
        TopP.Add(xp, column);
        TopQ.Add(xq, column);
        P.Add(xp, xq, invT);
        Q.Add(xq, xp, invT);
    }

    public static PairPartial Merge(PairPartial a, PairPartial b, float invT)
    {
        PairPartial r;
        r.P = SoftmaxAccumulator.Merge(a.P, b.P, invT);
        r.Q = SoftmaxAccumulator.Merge(a.Q, b.Q, invT);
        r.TopP = ArgMaxTracker.Merge(a.TopP, b.TopP);
        r.TopQ = ArgMaxTracker.Merge(a.TopQ, b.TopQ);
        return r;
    }

    /// <summary>KL(P||Q) (see <see cref="KlMath"/>).</summary>
    public readonly float KlForward(float invT) => KlMath.Kl(P, Q, invT);

    /// <summary>KL(Q||P).</summary>
    public readonly float KlReverse(float invT) => KlMath.Kl(Q, P, invT);
}
