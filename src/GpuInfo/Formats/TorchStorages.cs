namespace GpuInfo.Formats;

/// <summary>
/// The storage records of a torch.save file (PREFIX/data/KEY) and the tensors that view them: each
/// record must be stored uncompressed with as many bytes as its storage's length says, and each
/// tensor must lie inside its storage; a tensor that is not C-contiguous there is described, not read.
/// </summary>
internal sealed class TorchStorages(FileStream file, string path, Dictionary<string, ZipEntry> entries, string prefix)
{
    private readonly Dictionary<string, (TorchStorageClass Class, long DataAt)> _records = new(StringComparer.Ordinal);

    /// <summary>Where the first storage record starts (the end of the file when there is none): the bytes before it describe the tensors.</summary>
    public long FirstDataRecord { get; } = entries.Values
        .Where(e => e.Name.StartsWith(prefix + "/data/", StringComparison.Ordinal))
        .Select(e => e.LocalHeaderOffset)
        .DefaultIfEmpty(file.Length)
        .Min();

    /// <exception cref="InvalidFileException">The storage record is missing or malformed, or the tensor runs past its storage.</exception>
    public TorchTensor Resolve(string name, TorchTensorRecord tensor, bool single)
    {
        string who = single ? "the tensor" : $"tensor '{name}'";
        var storage = tensor.Storage;
        string recordName = $"{prefix}/data/{storage.Key}";
        if (!entries.TryGetValue(recordName, out var record))
        {
            throw new InvalidFileException(path, $"{who}: its storage has no record {recordName}.");
        }

        long dataAt = DataOf(record, storage);
        long bytes = record.Size;
        if (storage.Elements > long.MaxValue / 16 || bytes != storage.Elements * storage.Class.Element.Size)
        {
            throw new InvalidFileException(path, $"{who}: storage record {recordName} holds {bytes} bytes; the pickle says {storage.Elements} elements of {storage.Class.Global}.");
        }

        int size = tensor.Element.Size;
        if (bytes % size != 0)
        {
            throw new InvalidFileException(path, $"{who}: storage record {recordName} holds {bytes} bytes, not a whole number of {tensor.Element.Name} elements.");
        }

        long capacity = bytes / size;
        string shape = "[" + string.Join(", ", tensor.Shape) + "]";
        string strides = "[" + string.Join(", ", tensor.Strides) + "]";
        long last;
        bool empty = tensor.Shape.Contains(0);
        try
        {
            _ = tensor.Shape.Aggregate(1L, (a, b) => checked(a * b));
            last = empty ? tensor.Offset : tensor.Shape.Zip(tensor.Strides).Aggregate(tensor.Offset, (a, d) => checked(a + ((d.First - 1) * d.Second)));
            _ = checked(dataAt + (tensor.Offset * size));
        }
        catch (OverflowException)
        {
            throw new InvalidFileException(path, $"{who}: shape {shape} with strides {strides} is too large.");
        }

        if (empty ? last > capacity : last >= capacity)
        {
            throw new InvalidFileException(path,
                $"{who} (offset {tensor.Offset}, shape {shape}, strides {strides}) runs past its storage of {capacity} {tensor.Element.Name} elements.");
        }

        if (!empty && !Contiguous(tensor))
        {
            return new TorchTensor(name, null, $"{who} is a non-contiguous view (shape {shape}, strides {strides}); save it with .contiguous().");
        }

        var info = new TensorInfo(path, name, tensor.Element.DType ?? DType.Float32, tensor.Shape, dataAt + (tensor.Offset * size))
        {
            Unsupported = tensor.Element.DType is null ? tensor.Element.Name : null,
        };
        return new TorchTensor(name, info, null);
    }

    /// <summary>C order: each stride is the product of the sizes after it (dimensions of size 1 may have any stride).</summary>
    private static bool Contiguous(TorchTensorRecord tensor)
    {
        long expected = 1;
        for (int i = tensor.Shape.Length - 1; i >= 0; i--)
        {
            if (tensor.Shape[i] != 1 && tensor.Strides[i] != expected)
            {
                return false;
            }

            expected *= tensor.Shape[i];
        }

        return true;
    }

    /// <summary>The data start of a storage record, checked once per record; every tensor on it must use the same storage class.</summary>
    private long DataOf(ZipEntry record, TorchStorage storage)
    {
        if (_records.TryGetValue(record.Name, out var known))
        {
            return known.Class == storage.Class
                ? known.DataAt
                : throw new InvalidFileException(path, $"storage record {record.Name} is read both as {known.Class.Global} and as {storage.Class.Global}.");
        }

        long dataAt = ZipDirectory.StoredDataOffset(file, record, path);
        _records[record.Name] = (storage.Class, dataAt);
        return dataAt;
    }
}
