namespace GpuInfo;

/// <summary>
/// Options of cross-entropy, with PyTorch's meaning (<c>torch.nn.functional.cross_entropy</c>) plus
/// z-loss and temperature. Per row i with target y, z = x/T and lse = log Σ e^z:
/// loss_i = (1-e)·w_y·(lse - z_y) + e·Σ_j w_j(lse - z_j)/V + zloss·lse².
/// </summary>
public sealed record CrossEntropyOptions
{
    /// <summary>Rows whose target equals this are skipped (loss 0, gradient 0). PyTorch's default, -100.</summary>
    public long IgnoreIndex { get; init; } = -100;

    /// <summary>Label smoothing e in [0, 1].</summary>
    public float LabelSmoothing { get; init; }

    /// <summary>Optional class weights w (length vocab, finite, ≥ 0); null means all 1.</summary>
    public float[]? ClassWeights { get; init; }

    /// <summary>z-loss coefficient (PaLM's 1e-4 is typical): adds zloss·lse² per scored row, unweighted.</summary>
    public float ZLoss { get; init; }

    /// <summary>Softmax temperature T &gt; 0: logits are divided by T.</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>
    /// How per-row losses combine into <see cref="CrossEntropyResult.Loss"/>: Mean (default, weighted by w_y), Sum or None.
    /// Mean with Σ w_y = 0 over the scored rows (none scored, or every scored target of class weight 0) gives a NaN
    /// loss and a NaN gradient on the scored rows, as PyTorch does (see <see cref="GpuInfo.Reduction.Mean"/>).
    /// </summary>
    public Reduction Reduction { get; init; } = Reduction.Mean;

    internal void Validate(int vocab)
    {
        if (!Enum.IsDefined(Reduction))
        {
            throw new ArgumentOutOfRangeException(nameof(Reduction), Reduction, "not a Reduction.");
        }

        if (!(LabelSmoothing >= 0f && LabelSmoothing <= 1f))
        {
            Guard.Throw(nameof(LabelSmoothing), $"label smoothing must be in [0, 1], got {LabelSmoothing}.");
        }

        if (!(ZLoss >= 0f) || float.IsInfinity(ZLoss))
        {
            Guard.Throw(nameof(ZLoss), $"z-loss must be finite and >= 0, got {ZLoss}.");
        }

        Guard.Temperature(Temperature, nameof(Temperature));
        if (ClassWeights is { } w)
        {
            if (w.Length != vocab)
            {
                Guard.Throw(nameof(ClassWeights), $"expected {vocab} class weights (one per class), got {w.Length}.");
            }

            for (int j = 0; j < w.Length; j++)
            {
                if (!(w[j] >= 0f) || float.IsInfinity(w[j]))
                {
                    Guard.Throw(nameof(ClassWeights), $"class weight {j} is {w[j]}; weights must be finite and >= 0.");
                }
            }
        }
    }
}
