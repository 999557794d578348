namespace GpuInfo;

/// <summary>How per-row losses combine, as PyTorch's <c>reduction</c>.</summary>
public enum Reduction
{
    /// <summary>No reduction: per-row values; the gradient is that of their sum.</summary>
    None,

    /// <summary>Σ loss_i.</summary>
    Sum,

    /// <summary>
    /// Σ loss_i / Σ w_{y_i} over scored rows (the count when unweighted). When that denominator is 0 (no
    /// row is scored, or every scored row's target has class weight 0) the loss is NaN, and so is the
    /// gradient of every scored row (ignored rows keep gradient 0), as in PyTorch.
    /// </summary>
    Mean,
}
