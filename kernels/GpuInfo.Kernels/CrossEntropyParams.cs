namespace GpuInfo.Kernels;

/// <summary>Scalar options of cross-entropy as the kernels see them (validated by the facade).</summary>
public struct CrossEntropyParams
{
    public int Vocab;
    public int IgnoreIndex;
    public float LabelSmoothing;
    public float ZLoss;
    public float InvTemperature;

    /// <summary>1 when class weights are given.</summary>
    public int HasWeights;

    /// <summary>Σ_j w_j over the vocabulary (V when unweighted).</summary>
    public float WeightSum;

    /// <summary>Multiplier of the gradient from the reduction: 1 for sum/none, 1/Σ w_y for mean (NaN when Σ w_y = 0, as PyTorch).</summary>
    public float GradientScale;
}
