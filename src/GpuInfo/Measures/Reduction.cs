namespace GpuInfo;

/// <summary>How per-row losses combine, as PyTorch's <c>reduction</c>.</summary>
public enum Reduction
{
    /// <summary>No reduction: per-row values; the gradient is that of their sum.</summary>
    None,

    /// <summary>Σ loss_i.</summary>
    Sum,

    /// <summary>Σ loss_i / Σ w_{y_i} over scored rows (the count when unweighted); NaN when no row is scored.</summary>
    Mean,
}
