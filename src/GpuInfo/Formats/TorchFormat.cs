using System.Text;

namespace GpuInfo.Formats;

/// <summary>
/// PyTorch's torch.save files (.pt) in the zip format torch has written since 1.6: a tensor, or a dict
/// (nested dicts, lists and tuples too: names join their keys with dots) of tensors. The pickle
/// (<c>PREFIX/data.pkl</c>) is read with Razorvine.Pickle, allowing only the globals torch.save
/// writes for tensors and dicts (<see cref="TorchPickle"/>); each tensor is read in place from its
/// storage record <c>PREFIX/data/KEY</c>, which must be stored uncompressed, and must be C-contiguous
/// there. The legacy format (torch &lt; 1.6, or <c>_use_new_zipfile_serialization=False</c>),
/// TorchScript archives and big-endian files are refused.
/// </summary>
public static class TorchFormat
{
    /// <summary>Largest data.pkl accepted (a dict of thousands of tensors takes a few hundred KB).</summary>
    public const int MaxPickleBytes = 100_000_000;

    /// <summary>Deepest nesting of dicts, lists and tuples searched for tensors.</summary>
    public const int MaxDepth = 64;

    private const string Legacy = "legacy torch.save format (torch < 1.6, or _use_new_zipfile_serialization=False); re-save it with torch >= 1.6's default.";

    /// <summary>Validates the file and returns the named tensor (or the only one).</summary>
    /// <exception cref="InvalidFileException">The file is not a readable torch.save file, or the tensor is missing, not a tensor, or not contiguous.</exception>
    public static TensorInfo Read(string path, string? tensorName)
    {
        var contents = ReadAll(path);
        var tensors = contents.Tensors;
        TorchTensor picked;
        if (contents.Single)
        {
            picked = tensorName is null
                ? tensors[0]
                : throw new InvalidFileException(path, $"holds one tensor, saved bare (not in a dict), so it has no name; drop the tensor name '{tensorName}'.");
        }
        else if (tensorName is not null)
        {
            picked = tensors.FirstOrDefault(t => t.Name == tensorName)
                ?? throw new InvalidFileException(path, contents.Others.TryGetValue(tensorName, out string? type)
                    ? $"'{tensorName}' is a {type}, not a tensor."
                    : $"no tensor named '{tensorName}' (it holds: {Names(tensors)}).");
        }
        else
        {
            picked = tensors.Count switch
            {
                1 => tensors[0],
                0 => throw new InvalidFileException(path, contents.Others.Count == 0 ? "holds no tensors." : $"holds no tensors (only {string.Join(", ", contents.Others.Keys)})."),
                _ => throw new InvalidFileException(path, $"holds {tensors.Count} tensors ({Names(tensors)}); pick one with --tensor NAME."),
            };
        }

        return picked.Info ?? throw new InvalidFileException(path, picked.Refusal!);
    }

    /// <summary>Every tensor of a validated file, in the pickle's order, and the names of values that are not tensors.</summary>
    /// <exception cref="InvalidFileException">The file is not a readable torch.save file.</exception>
    public static TorchContents ReadAll(string path)
    {
        using var file = FileAccess.OpenRead(path);
        if (!ZipDirectory.Sniff(file))
        {
            Span<byte> head = stackalloc byte[2];
            bool legacy = FileAccess.ReadAtMost(file, head, 0) == 2 && head[0] == 0x80;
            throw new InvalidFileException(path, legacy ? Legacy : "not a torch.save file (not a zip archive, and no legacy pickle).");
        }

        var entries = ZipDirectory.Read(file, path).ToDictionary(e => e.Name, StringComparer.Ordinal);
        string prefix = FindPrefix(path, entries);
        CheckByteOrder(file, path, entries, prefix);
        var pickleEntry = entries[prefix + "/data.pkl"];
        if (pickleEntry.Size > MaxPickleBytes)
        {
            throw new InvalidFileException(path, $"its data.pkl of {pickleEntry.Size} bytes exceeds the limit of {MaxPickleBytes} bytes.");
        }

        long pickleAt = ZipDirectory.StoredDataOffset(file, pickleEntry, path);
        var pickle = new byte[pickleEntry.Size];
        FileAccess.ReadExactly(file, pickle, pickleAt, path);
        object? root;
        try
        {
            root = TorchPickle.Load(pickle);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidFileException(path, $"{pickleEntry.Name}: {e.Message}.");
        }

        var found = TorchTree.Collect(path, root);
        var storages = new TorchStorages(file, path, entries, prefix);
        var tensors = found.Tensors.Select(t => storages.Resolve(t.Name, t.Record, found.Single)).ToList();
        long header = Math.Min(Math.Min(pickleAt + pickleEntry.Size, storages.FirstDataRecord), MaxPickleBytes);
        return new TorchContents(
            [.. tensors.Select(t => t with { Info = t.Info is null ? null : t.Info with { HeaderBytes = header, Named = !found.Single } })],
            found.Others,
            found.Single);
    }

    private static string Names(IReadOnlyList<TorchTensor> tensors) => string.Join(", ", tensors.Select(t => t.Name));

    /// <summary>torch writes every record under one folder, the archive's name: PREFIX/data.pkl, PREFIX/data/0...</summary>
    private static string FindPrefix(string path, Dictionary<string, ZipEntry> entries)
    {
        var pickles = entries.Keys.Where(n => n.EndsWith("/data.pkl", StringComparison.Ordinal) && n.IndexOf('/', StringComparison.Ordinal) == n.Length - 9).ToList();
        if (pickles.Count != 1)
        {
            throw new InvalidFileException(path, pickles.Count == 0
                ? "a zip archive without a PREFIX/data.pkl record: not a torch.save file."
                : $"holds {pickles.Count} data.pkl records ({string.Join(", ", pickles)}); a torch.save file has one.");
        }

        string prefix = pickles[0][..^9];
        if (entries.ContainsKey(prefix + "/constants.pkl"))
        {
            throw new InvalidFileException(path, "a TorchScript archive (torch.jit.save), not a torch.save file; save the tensors with torch.save.");
        }

        return prefix;
    }

    /// <summary>torch >= 2 records the writer's byte order; older files are little-endian (torch.load assumes so).</summary>
    private static void CheckByteOrder(FileStream file, string path, Dictionary<string, ZipEntry> entries, string prefix)
    {
        if (!entries.TryGetValue(prefix + "/byteorder", out var entry))
        {
            return;
        }

        if (entry.Size > 16)
        {
            throw new InvalidFileException(path, $"its byteorder record holds {entry.Size} bytes; expected 'little' or 'big'.");
        }

        var bytes = new byte[entry.Size];
        FileAccess.ReadExactly(file, bytes, ZipDirectory.StoredDataOffset(file, entry, path), path);
        string order = Encoding.ASCII.GetString(bytes);
        if (order != "little")
        {
            throw new InvalidFileException(path, order == "big"
                ? "written on a big-endian machine (byteorder 'big'); GpuInfo reads little-endian data: re-save it on a little-endian machine."
                : $"its byteorder record is '{order}'; expected 'little' or 'big'.");
        }
    }
}

/// <summary>The tensors of a torch.save file and the names of its other values with their Python types.</summary>
/// <param name="Single">The file is one tensor saved bare (torch.save(tensor)), named after the file.</param>
public sealed record TorchContents(IReadOnlyList<TorchTensor> Tensors, IReadOnlyDictionary<string, string> Others, bool Single);

/// <summary>A tensor of a torch.save file: its <see cref="TensorInfo"/>, or why it cannot be read in place (null Info).</summary>
public sealed record TorchTensor(string Name, TensorInfo? Info, string? Refusal);
