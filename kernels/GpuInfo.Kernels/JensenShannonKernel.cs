using ILGPU;
using ILGPU.Algorithms;

namespace GpuInfo.Kernels;

/// <summary>
/// Jensen-Shannon divergence needs both normalisers before it can weigh an entry, so it is a second
/// pass: one group per row slice sums ½[p·log(p/m) + q·log(q/m)], m = (p+q)/2, reading each row's
/// merged <see cref="PairPartial"/> (left in the row's first slot by <see cref="PairFinishKernel"/>).
/// Slices of one row are added by <see cref="SumSlices"/>.
/// </summary>
public static class JensenShannonKernel
{
    public static void Run<TP, TLoadP, TQ, TLoadQ>(ArrayView<TP> p, ArrayView<TQ> q, SliceShape shape,
        float invT, ArrayView<PairPartial> merged, ArrayView<float> sums)
        where TP : unmanaged
        where TLoadP : struct, ILogitLoader<TP>
        where TQ : unmanaged
        where TLoadQ : struct, ILogitLoader<TQ>
    {
        var slice = RowSlice.Current(shape.Splits, shape.SplitLength, shape.Vocab);
        var row = merged[(long)slice.Row * shape.Splits];
        var norm = new JsNormalizers(row);
        float acc = 0f;
        for (int j = slice.Begin + Group.IdxX; j < slice.End; j += Group.DimX)
        {
            float zp = default(TLoadP).Load(p[slice.RowOffset + j]) * invT;
            float zq = default(TLoadQ).Load(q[slice.RowOffset + j]) * invT;
            acc += Term(zp, zq, norm);
        }

        float total = GroupMerge.Sum(acc);
        if (Group.IsFirstThread)
        {
            sums[Grid.IdxX] = total;
        }
    }

    /// <summary>
    /// One entry's ½[p log(p/m) + q log(q/m)] (nats) from scaled logits. With d = log p - log q it is
    /// ½·p·g(d); near d = 0 the direct form cancels, so |d| &lt; ½ uses g's Taylor series
    /// (relative error &lt; 2e-8 there).
    /// </summary>
    public static float Term(float zp, float zq, JsNormalizers n)
    {
        if (zp == float.NegativeInfinity && zq == float.NegativeInfinity)
        {
            return 0f;
        }

        float lp = zp - n.LseP;
        float d = (zp - zq) - n.LseDifference;
        if (XMath.Abs(d) < 0.5f)
        {
            return 0.5f * XMath.Exp(lp) * Series(d);
        }

        float lq = zq - n.LseQ;
        float hi = XMath.Max(lp, lq);
        float lo = XMath.Min(lp, lq);
        float lm = hi + XMath.Log(1f + XMath.Exp(lo - hi)) - 0.6931472f;
        float t = 0f;
        if (zp > float.NegativeInfinity)
        {
            t += XMath.Exp(lp) * (lp - lm);
        }

        if (zq > float.NegativeInfinity)
        {
            t += XMath.Exp(lq) * (lq - lm);
        }

        return 0.5f * t;
    }

    /// <summary>g(d) = d²/4 - d³/8 + d⁴/32 - d⁵/192 + d⁶/1152 - d⁷/5760 + d⁸/46080.</summary>
    public static float Series(float d) =>
        d * d * (1f / 4f + d * (-1f / 8f + d * (1f / 32f + d * (-1f / 192f + d * (1f / 1152f
            + d * (-1f / 5760f + d * (1f / 46080f)))))));

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

/// <summary>A row's log-normalisers for JS: lse_p, lse_q, and lse_p - lse_q formed without cancellation.</summary>
public readonly struct JsNormalizers
{
    public readonly float LseP;
    public readonly float LseQ;
    public readonly float LseDifference;

    public JsNormalizers(PairPartial row)
    {
        LseP = row.P.LogSumExp;
        LseQ = row.Q.LogSumExp;
        LseDifference = row.LseDifference;
    }
}
