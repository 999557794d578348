namespace GpuInfo.Formats;

/// <summary>Element types GpuInfo reads from files.</summary>
public enum DType
{
    Float32,
    Float16,
    BFloat16,
    Float64,
    Int32,
    Int64,
}

public static class DTypeExtensions
{
    public static int Size(this DType type) => type switch
    {
        DType.Float16 or DType.BFloat16 => 2,
        DType.Float32 or DType.Int32 => 4,
        DType.Float64 or DType.Int64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a DType."),
    };

    public static bool IsFloat(this DType type) => type is DType.Float32 or DType.Float16 or DType.BFloat16 or DType.Float64;

    /// <summary>The safetensors spelling (F32, BF16, I64, ...).</summary>
    public static string SafetensorsName(this DType type) => type switch
    {
        DType.Float32 => "F32",
        DType.Float16 => "F16",
        DType.BFloat16 => "BF16",
        DType.Float64 => "F64",
        DType.Int32 => "I32",
        DType.Int64 => "I64",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a DType."),
    };
}
