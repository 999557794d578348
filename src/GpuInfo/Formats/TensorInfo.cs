namespace GpuInfo.Formats;

/// <summary>
/// A validated tensor inside a file: C order, little-endian, <see cref="ByteLength"/> bytes starting
/// at <see cref="DataOffset"/>. .npy, .safetensors and torch.save's .pt reduce to this, so everything
/// downstream (chunked reading, conversion) is format-independent.
/// </summary>
public sealed record TensorInfo(string Path, string Name, DType DType, long[] Shape, long DataOffset)
{
    /// <summary>
    /// The file's header: the bytes that describe its tensors (dtypes, shapes, offsets), before any
    /// tensor data. In a .npy file the data follows it; in a .safetensors file other tensors' data
    /// may lie between it and <see cref="DataOffset"/>; in a .pt file it runs to the end of the
    /// pickle (data.pkl, which torch writes first) and never into a storage record.
    /// </summary>
    public long HeaderBytes { get; init; }

    /// <summary>
    /// The tensor is one of the named tensors a file holds (a .safetensors file, a dict in a .pt file),
    /// so which one was read matters; false for a file that is one tensor (.npy, a bare tensor's .pt).
    /// </summary>
    public bool Named { get; init; }

    /// <summary>A dtype present in the file that GpuInfo cannot read (e.g. U8); null when supported.</summary>
    public string? Unsupported { get; init; }

    public long ElementCount => Shape.Aggregate(1L, (a, b) => checked(a * b));

    public long ByteLength => ElementCount * DType.Size();

    public int Rank => Shape.Length;

    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    /// <summary>Opens a tensor file by extension (.npy, .safetensors or torch.save's .pt), validating it before any compute.</summary>
    /// <exception cref="InvalidFileException">The file is missing, truncated or malformed.</exception>
    public static TensorInfo Open(string path, string? tensorName = null)
    {
        if (path == "-")
        {
            throw new InvalidFileException("-", "standard input can carry only the rows of eval, compare or ib (a .npy stream of logits or probabilities); this needs a file.");
        }

        if (Directory.Exists(path))
        {
            throw new InvalidFileException(path, "is a folder, not a .npy, .safetensors or .pt file.");
        }

        string ext = System.IO.Path.GetExtension(path).ToLowerInvariant();
        return ext switch
        {
            ".npy" when tensorName is not null => throw new InvalidFileException(path, "a tensor name applies to .safetensors and .pt files only; a .npy file holds one tensor."),
            ".npy" => NpyFormat.Read(path),
            ".safetensors" => Supported(SafetensorsFormat.Read(path, tensorName)),
            ".pt" => Supported(TorchFormat.Read(path, tensorName)),
            _ => throw new InvalidFileException(path, $"unknown extension '{ext}'; expected .npy, .safetensors or .pt (torch.save)."),
        };
    }

    private static TensorInfo Supported(TensorInfo info) => info.Unsupported is null
        ? info
        : throw new InvalidFileException(info.Path,
            $"tensor '{info.Name}' has dtype {info.Unsupported}; supported: F32, F16, BF16, F64, I32, I64.");
}
