using System.Text;
using System.Text.Json;

namespace GpuInfo.Formats;

/// <summary>
/// .safetensors with the format's validation rules: an 8-byte little-endian header size of at most
/// 100,000,000, a UTF-8 JSON object starting with '{', every tensor's byte range matching its dtype
/// and shape, and ranges contiguous from 0 to the end of the file with no gaps or overlaps.
/// </summary>
public static class SafetensorsFormat
{
    public const long MaxHeaderBytes = 100_000_000;

    private static readonly Dictionary<string, int> KnownSizes = new()
    {
        ["BOOL"] = 1, ["U8"] = 1, ["I8"] = 1, ["F8_E5M2"] = 1, ["F8_E4M3"] = 1,
        ["I16"] = 2, ["U16"] = 2, ["F16"] = 2, ["BF16"] = 2,
        ["I32"] = 4, ["U32"] = 4, ["F32"] = 4,
        ["I64"] = 8, ["U64"] = 8, ["F64"] = 8,
    };

    private static readonly Dictionary<string, DType> Supported = new()
    {
        ["F32"] = DType.Float32, ["F16"] = DType.Float16, ["BF16"] = DType.BFloat16,
        ["F64"] = DType.Float64, ["I32"] = DType.Int32, ["I64"] = DType.Int64,
    };

    /// <summary>Validates the whole file and returns the named tensor (or the only one).</summary>
    public static TensorInfo Read(string path, string? tensorName)
    {
        var tensors = ReadAll(path);
        if (tensorName is not null)
        {
            return tensors.FirstOrDefault(t => t.Name == tensorName)
                ?? throw new InvalidFileException(path,
                    $"no tensor named '{tensorName}' (it holds: {string.Join(", ", tensors.Select(t => t.Name))}).");
        }

        return tensors.Count switch
        {
            1 => tensors[0],
            0 => throw new InvalidFileException(path, "holds no tensors."),
            _ => throw new InvalidFileException(path,
                $"holds {tensors.Count} tensors ({string.Join(", ", tensors.Select(t => t.Name))}); pick one with --tensor NAME."),
        };
    }

    /// <summary>Every tensor of a validated file, in file order (unsupported dtypes are refused).</summary>
    public static IReadOnlyList<TensorInfo> ReadAll(string path) => ReadWithMetadata(path).Tensors;

    /// <summary>Every tensor of a validated file, in file order, and its <c>__metadata__</c> (empty where it has none).</summary>
    public static (IReadOnlyList<TensorInfo> Tensors, IReadOnlyDictionary<string, string> Metadata) ReadWithMetadata(string path)
    {
        using var file = FileAccess.OpenRead(path);
        long length = file.Length;
        if (length < 8)
        {
            throw new InvalidFileException(path, "too short for a .safetensors file (no 8-byte header size).");
        }

        Span<byte> sizeBytes = stackalloc byte[8];
        FileAccess.ReadExactly(file, sizeBytes, 0, path);
        ulong headerSize = BitConverter.ToUInt64(sizeBytes);
        if (headerSize > MaxHeaderBytes)
        {
            throw new InvalidFileException(path, $"header size {headerSize} exceeds the format's limit of {MaxHeaderBytes} bytes.");
        }

        if (8 + (long)headerSize > length)
        {
            throw new InvalidFileException(path, $"header size {headerSize} is larger than the file ({length} bytes): truncated or not safetensors.");
        }

        var header = new byte[headerSize];
        FileAccess.ReadExactly(file, header, 8, path);
        long dataStart = 8 + (long)headerSize;
        var (entries, metadata) = ParseHeader(path, header);
        Validate(path, entries, length - dataStart);
        return ([.. entries.OrderBy(e => e.Begin).Select(e => ToInfo(path, e, dataStart))], metadata);
    }

    /// <summary>Writes a .safetensors file holding the given tensors in order (raw little-endian bytes).</summary>
    public static void Write(string path, IReadOnlyList<(string Name, DType DType, long[] Shape, byte[] Data)> tensors)
    {
        foreach (var t in tensors)
        {
            if (!Enum.IsDefined(t.DType))
            {
                throw new ArgumentOutOfRangeException(nameof(tensors), t.DType, $"tensor '{t.Name}': not a DType.");
            }
        }

        var header = Header([.. tensors.Select(t => (t.Name, t.DType.SafetensorsName(), t.Shape, (long)t.Data.Length))], null);
        using var stream = File.Create(path);
        stream.Write(header);
        foreach (var t in tensors)
        {
            stream.Write(t.Data);
        }
    }

    /// <summary>
    /// A file's first bytes: the header size and the JSON header describing <paramref name="tensors"/>, laid
    /// out in order from the data's start, with <paramref name="metadata"/> as <c>__metadata__</c>; padded with
    /// spaces, as the format allows, to a multiple of 8 bytes and to at least <paramref name="minimumBytes"/>
    /// (so that a writer can keep room for a header it finishes after the data).
    /// </summary>
    internal static byte[] Header(IReadOnlyList<(string Name, string DType, long[] Shape, long Bytes)> tensors, IReadOnlyDictionary<string, string>? metadata, int minimumBytes = 0)
    {
        var header = new Dictionary<string, object>();
        if (metadata is { Count: > 0 })
        {
            header["__metadata__"] = metadata;
        }

        long offset = 0;
        foreach (var t in tensors)
        {
            header[t.Name] = new { dtype = t.DType, shape = t.Shape, data_offsets = new[] { offset, offset + t.Bytes } };
            offset += t.Bytes;
        }

        var json = JsonSerializer.SerializeToUtf8Bytes(header);
        int padded = Math.Max((json.Length + 7) / 8 * 8, (minimumBytes - 8 + 7) / 8 * 8);
        var bytes = new byte[8 + padded];
        BitConverter.TryWriteBytes(bytes.AsSpan(0, 8), (ulong)padded);
        json.CopyTo(bytes, 8);
        bytes.AsSpan(8 + json.Length).Fill((byte)' ');
        return bytes;
    }

    private sealed record Entry(string Name, string DType, long[] Shape, long Begin, long End);

    private static (List<Entry> Entries, Dictionary<string, string> Metadata) ParseHeader(string path, byte[] header)
    {
        if (header.Length == 0 || header[0] != (byte)'{')
        {
            throw new InvalidFileException(path, "the header does not start with '{'.");
        }

        JsonDocument doc;
        try
        {
            string text = new UTF8Encoding(false, true).GetString(header);
            doc = JsonDocument.Parse(text.TrimEnd(' '));
        }
        catch (Exception e) when (e is JsonException or DecoderFallbackException or ArgumentException)
        {
            throw new InvalidFileException(path, $"the header is not valid UTF-8 JSON ({e.Message.Split('\n')[0]}).");
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidFileException(path, "the header is not a JSON object.");
            }

            var entries = new List<Entry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!names.Add(property.Name))
                {
                    throw new InvalidFileException(path, $"tensor '{property.Name}' appears twice in the header.");
                }

                if (property.Name == "__metadata__")
                {
                    ValidateMetadata(path, property.Value);
                    foreach (var item in property.Value.EnumerateObject())
                    {
                        metadata[item.Name] = item.Value.GetString()!;
                    }

                    continue;
                }

                entries.Add(ParseEntry(path, property.Name, property.Value));
            }

            return (entries, metadata);
        }
    }

    private static void ValidateMetadata(string path, JsonElement metadata)
    {
        if (metadata.ValueKind != JsonValueKind.Object
            || metadata.EnumerateObject().Any(p => p.Value.ValueKind != JsonValueKind.String))
        {
            throw new InvalidFileException(path, "__metadata__ must map strings to strings.");
        }
    }

    private static Entry ParseEntry(string path, string name, JsonElement e)
    {
        string Bad(string what) => $"tensor '{name}': {what}";
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidFileException(path, Bad("entry is not an object."));
        }

        if (!e.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String)
        {
            throw new InvalidFileException(path, Bad("missing 'dtype' string."));
        }

        if (!e.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidFileException(path, Bad("missing 'shape' array."));
        }

        if (!e.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
        {
            throw new InvalidFileException(path, Bad("'data_offsets' must be [begin, end]."));
        }

        var dims = new long[shape.GetArrayLength()];
        int i = 0;
        foreach (var d in shape.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out dims[i]) || dims[i] < 0)
            {
                throw new InvalidFileException(path, Bad("shape entries must be non-negative integers."));
            }

            i++;
        }

        long[] range = new long[2];
        i = 0;
        foreach (var o in offsets.EnumerateArray())
        {
            if (o.ValueKind != JsonValueKind.Number || !o.TryGetInt64(out range[i]) || range[i] < 0)
            {
                throw new InvalidFileException(path, Bad("data offsets must be non-negative integers."));
            }

            i++;
        }

        return new Entry(name, dtype.GetString()!, dims, range[0], range[1]);
    }

    private static void Validate(string path, List<Entry> entries, long dataLength)
    {
        foreach (var e in entries)
        {
            if (!KnownSizes.TryGetValue(e.DType, out int size))
            {
                throw new InvalidFileException(path, $"tensor '{e.Name}': unknown dtype '{e.DType}'.");
            }

            if (e.End < e.Begin)
            {
                throw new InvalidFileException(path, $"tensor '{e.Name}': data offsets [{e.Begin}, {e.End}] are reversed.");
            }

            long elements;
            try
            {
                elements = e.Shape.Aggregate(1L, (a, b) => checked(a * b));
                _ = checked(elements * size);
            }
            catch (OverflowException)
            {
                throw new InvalidFileException(path, $"tensor '{e.Name}': shape is too large.");
            }

            if (e.End - e.Begin != elements * size)
            {
                throw new InvalidFileException(path,
                    $"tensor '{e.Name}': {e.DType} shape [{string.Join(", ", e.Shape)}] needs {elements * size} bytes but its offsets span {e.End - e.Begin}.");
            }
        }

        long expected = 0;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin != expected)
            {
                throw new InvalidFileException(path, e.Begin > expected
                    ? $"tensor '{e.Name}' starts at byte {e.Begin}, leaving a gap after byte {expected}."
                    : $"tensor '{e.Name}' overlaps the tensor before it (starts at {e.Begin}, previous ends at {expected}).");
            }

            expected = e.End;
        }

        if (expected != dataLength)
        {
            throw new InvalidFileException(path, expected > dataLength
                ? $"truncated: the header describes {expected} data bytes, the file holds {dataLength}."
                : $"{dataLength - expected} bytes after the last tensor are not described by the header.");
        }
    }

    private static TensorInfo ToInfo(string path, Entry e, long dataStart)
    {
        if (!Supported.TryGetValue(e.DType, out var dtype))
        {
            // Valid file, but a dtype GpuInfo does not compute on; refused when this tensor is used.
            return new TensorInfo(path, e.Name, DType.Float32, e.Shape, dataStart + e.Begin) { Unsupported = e.DType, HeaderBytes = dataStart, Named = true };
        }

        return new TensorInfo(path, e.Name, dtype, e.Shape, dataStart + e.Begin) { HeaderBytes = dataStart, Named = true };
    }
}
