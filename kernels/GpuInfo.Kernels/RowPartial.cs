namespace GpuInfo.Kernels;

/// <summary>
/// Everything the single-input row measures need from one pass over a slice of a row of raw
/// logits at temperature T: online softmax statistics, Σx and Σw·x for label smoothing, and the argmax.
/// </summary>
public struct RowPartial
{
    public SoftmaxAccumulator Softmax;

    /// <summary>Σ x (raw), for label smoothing.</summary>
    public float SumX;

    /// <summary>Σ w_j·x_j (raw) with 0·(-inf) taken as 0, for weighted label smoothing.</summary>
    public float SumWX;

    public ArgMaxTracker Top;

    public static RowPartial Empty => new() { Softmax = SoftmaxAccumulator.Empty, Top = ArgMaxTracker.Empty };

    /// <summary>Folds one entry (raw x, class weight w, column).</summary>
    public void Add(float x, float invT, float weight, int column)
    {
        SumX += x;
        SumWX += weight == 0f ? 0f : weight * x;
        Top.Add(x, column);
        Softmax.Add(x, invT);
    }

    /// <summary>The row's cross-entropy given the target's raw logit and class weight.</summary>
    public readonly float CrossEntropy(in CrossEntropyParams ce, float xTarget, float weightTarget)
    {
        float nll = Softmax.NegativeLogProb(xTarget, ce.InvTemperature);
        return SoftmaxMath.CrossEntropy(ce, Softmax.LogSumExp(ce.InvTemperature), nll, weightTarget, SumX, SumWX);
    }

    public static RowPartial Merge(RowPartial a, RowPartial b, float invT)
    {
        RowPartial r;
        r.Softmax = SoftmaxAccumulator.Merge(a.Softmax, b.Softmax, invT);
        r.SumX = a.SumX + b.SumX;
        r.SumWX = a.SumWX + b.SumWX;
        r.Top = ArgMaxTracker.Merge(a.Top, b.Top);
        return r;
    }
}
