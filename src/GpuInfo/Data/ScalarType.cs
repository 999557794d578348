namespace GpuInfo;

/// <summary>Element type of logits held in memory. Math is float32 whatever the storage.</summary>
public enum ScalarType
{
    Float32,
    Float16,

    /// <summary>bfloat16, carried as its 16-bit payload (the high half of a float32).</summary>
    BFloat16,
}

internal static class ScalarTypeExtensions
{
    public static int Size(this ScalarType type) => type == ScalarType.Float32 ? 4 : 2;
}
