namespace GpuInfo.Backends.Cpu;

/// <summary>
/// Which optional sums a single-input CPU pass accumulates. The pass is generic over this, so the
/// JIT compiles one loop per combination and the unused sums cost nothing.
/// </summary>
internal interface IRowSums
{
    /// <summary>Σe·g, for the entropy.</summary>
    static abstract bool Entropy { get; }

    /// <summary>Σw·(x - max) and Σw (w = 1 unweighted), for label smoothing.</summary>
    static abstract bool Smoothing { get; }
}

internal readonly struct SoftmaxOnly : IRowSums
{
    public static bool Entropy => false;

    public static bool Smoothing => false;
}

internal readonly struct WithEntropy : IRowSums
{
    public static bool Entropy => true;

    public static bool Smoothing => false;
}

internal readonly struct WithSmoothing : IRowSums
{
    public static bool Entropy => false;

    public static bool Smoothing => true;
}

internal readonly struct WithEverything : IRowSums
{
    public static bool Entropy => true;

    public static bool Smoothing => true;
}
