using ILGPU;

namespace GpuInfo.Kernels;

/// <summary>Per-row outputs of the single-input finish; an empty view means "not requested".</summary>
public struct RowOutputs
{
    /// <summary>log Σ e^z; always written (a non-finite value marks an invalid row).</summary>
    public ArrayView<float> Lse;
    public ArrayView<float> Entropy;
    public ArrayView<float> Loss;
    public ArrayView<int> ArgMax;

    /// <summary>The argmax's probability (<see cref="SoftmaxAccumulator.TopProbability"/>).</summary>
    public ArrayView<float> Confidence;

    /// <summary>The Brier score against the target (<see cref="SoftmaxAccumulator.BrierScore"/>; needs <see cref="Loss"/>; 0 for ignored rows).</summary>
    public ArrayView<float> Brier;
}

/// <summary>Per-row outputs of the pair finish; an empty view means "not requested".</summary>
public struct PairOutputs
{
    /// <summary>log Σ e^{z_p}; always written.</summary>
    public ArrayView<float> LseP;

    /// <summary>log Σ e^{z_q}; always written.</summary>
    public ArrayView<float> LseQ;
    public ArrayView<float> KlForward;
    public ArrayView<float> KlReverse;
    public ArrayView<float> EntropyP;
    public ArrayView<int> ArgMaxP;
    public ArrayView<int> ArgMaxQ;

    /// <summary>Each side's argmax probability (<see cref="SoftmaxAccumulator.TopProbability"/>); both or neither.</summary>
    public ArrayView<float> ConfidenceP;
    public ArrayView<float> ConfidenceQ;

    /// <summary>-log p(target) under P (needs targets).</summary>
    public ArrayView<float> NllP;

    /// <summary>-log q(target) under Q (needs targets).</summary>
    public ArrayView<float> NllQ;

    /// <summary>log q(target) - log p(target), formed without cancellation (needs targets).</summary>
    public ArrayView<float> LogRatio;

    /// <summary>Each side's Brier score against the target (<see cref="SoftmaxAccumulator.BrierScore"/>; needs <see cref="NllP"/>); both or neither.</summary>
    public ArrayView<float> BrierP;
    public ArrayView<float> BrierQ;
}
