namespace GpuInfo.Kernels;

/// <summary>
/// Everything the single-input row measures need from one pass over a slice of a row of logits
/// z = x/T: online softmax statistics, Σ z and Σ w·z for label smoothing, and the argmax.
/// </summary>
public struct RowPartial
{
    public SoftmaxAccumulator Softmax;

    /// <summary>Σ z, for label smoothing.</summary>
    public float SumZ;

    /// <summary>Σ w_j·z_j with 0·(-inf) taken as 0, for weighted label smoothing.</summary>
    public float SumWZ;

    public ArgMaxTracker Top;

    public static RowPartial Empty => new() { Softmax = SoftmaxAccumulator.Empty, Top = ArgMaxTracker.Empty };

    /// <summary>Folds one entry (raw x, scaled z, class weight w, column).</summary>
    public void Add(float x, float z, float weight, int column)
    {
        SumZ += z;
        SumWZ += weight == 0f ? 0f : weight * z;
        Top.Add(x, column);
        Softmax.Add(z, 0f);
    }

    /// <summary>The row's cross-entropy given the target's scaled logit and class weight.</summary>
    public readonly float CrossEntropy(in CrossEntropyParams ce, float zTarget, float weightTarget)
    {
        float nll = SoftmaxMath.NegativeLogProb(Softmax.Max, Softmax.SumExp, zTarget);
        return SoftmaxMath.CrossEntropy(ce, Softmax.LogSumExp, nll, weightTarget, SumZ, SumWZ);
    }

    public static RowPartial Merge(RowPartial a, RowPartial b)
    {
        RowPartial r;
        r.Softmax = SoftmaxAccumulator.Merge(a.Softmax, b.Softmax);
        r.SumZ = a.SumZ + b.SumZ;
        r.SumWZ = a.SumWZ + b.SumWZ;
        r.Top = ArgMaxTracker.Merge(a.Top, b.Top);
        return r;
    }
}
