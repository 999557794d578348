namespace GpuInfo.Kernels;

/// <summary>
/// Everything the single-input row measures need from one pass over a slice of a row of raw
/// logits at temperature T: online softmax statistics, Σw·(x - max) for label smoothing, and the argmax.
/// </summary>
public struct RowPartial
{
    public SoftmaxAccumulator Softmax;

    /// <summary>
    /// Σ w_j·(x_j - <see cref="SoftmaxAccumulator.Max"/>) (raw units; w = 1 unweighted) with 0·(-inf) taken as 0,
    /// for label smoothing: ≤ 0, -inf when an entry of nonzero weight is -inf. Kept relative to the running max
    /// (shifted by <see cref="WeightSum"/>·(old max - new max) when the max grows), so that lse - z̄ forms
    /// without cancelling two large numbers (a raw Σx lost 2e-5 relative at logits offset by 1e4, and
    /// overflowed at 3e38). 0 while no finite entry was seen, unless a -inf of nonzero weight came.
    /// </summary>
    public float SumGap;

    /// <summary>Σ w_j over the entries folded (their count when unweighted), for shifting <see cref="SumGap"/>.</summary>
    public float WeightSum;

    public ArgMaxTracker Top;

    public static RowPartial Empty => new() { Softmax = SoftmaxAccumulator.Empty, Top = ArgMaxTracker.Empty };

    /// <summary>Folds one entry (raw x, class weight w, column).</summary>
    public void Add(float x, float invT, float weight, int column)
    {
        float max = Softmax.Max;
        if (x > max)
        {
            SumGap = SoftmaxMath.ShiftGapSum(SumGap, WeightSum, max, x);
            max = x;
        }

        // x = -inf: the gap is -inf (max is then -inf or finite; -inf - -inf would be NaN).
        float gap = x == float.NegativeInfinity ? x : x - max;
        SumGap += weight == 0f ? 0f : weight * gap;
        WeightSum += weight;
        Top.Add(x, column);
        Softmax.Add(x, invT);
    }

    /// <summary>The row's cross-entropy given the target's raw logit and class weight.</summary>
    public readonly float CrossEntropy(in CrossEntropyParams ce, float xTarget, float weightTarget)
    {
        float nll = Softmax.NegativeLogProb(xTarget, ce.InvTemperature);
        return SoftmaxMath.CrossEntropy(ce, Softmax.LogSumExp(ce.InvTemperature), Softmax.LogSum, nll, weightTarget, SumGap);
    }

    public static RowPartial Merge(RowPartial a, RowPartial b, float invT)
    {
        RowPartial r;
        r.Softmax = SoftmaxAccumulator.Merge(a.Softmax, b.Softmax, invT);
        float m = r.Softmax.Max;
        r.SumGap = SoftmaxMath.ShiftGapSum(a.SumGap, a.WeightSum, a.Softmax.Max, m)
            + SoftmaxMath.ShiftGapSum(b.SumGap, b.WeightSum, b.Softmax.Max, m);
        r.WeightSum = a.WeightSum + b.WeightSum;
        r.Top = ArgMaxTracker.Merge(a.Top, b.Top);
        return r;
    }
}
