namespace GpuInfo.Backends.Cpu;

/// <summary>
/// Which optional sums a CPU pass accumulates. The passes are generic over this, so the JIT compiles
/// one loop per combination and the unused sums cost nothing.
/// </summary>
internal interface IRowSums
{
    /// <summary>Σe·g, for the entropy.</summary>
    static abstract bool Entropy { get; }

    /// <summary>Σw·(x - max) and Σw (w = 1 unweighted), for label smoothing.</summary>
    static abstract bool Smoothing { get; }

    /// <summary>Σe², for Σp² and the Brier score.</summary>
    static abstract bool Squares { get; }
}

/// <summary>A compile-time switch: the CPU passes are generic over it, so the JIT compiles each setting's loop apart (<see cref="RowSums{TEntropy, TSmoothing, TSquares}"/>, the pair pass's masked lanes).</summary>
internal interface ISwitch
{
    static abstract bool IsOn { get; }
}

internal readonly struct Yes : ISwitch
{
    public static bool IsOn => true;
}

internal readonly struct No : ISwitch
{
    public static bool IsOn => false;
}

/// <summary>The sums each switch turns on.</summary>
internal readonly struct RowSums<TEntropy, TSmoothing, TSquares> : IRowSums
    where TEntropy : struct, ISwitch
    where TSmoothing : struct, ISwitch
    where TSquares : struct, ISwitch
{
    public static bool Entropy => TEntropy.IsOn;

    public static bool Smoothing => TSmoothing.IsOn;

    public static bool Squares => TSquares.IsOn;
}
