using System.Buffers.Binary;
using System.Text;

namespace GpuInfo.Formats;

/// <summary>One entry of a zip archive: where its local header is, how its data is stored, and the end its data must keep within (the central directory's start).</summary>
internal sealed record ZipEntry(string Name, int Method, long CompressedSize, long Size, long LocalHeaderOffset, long Limit);

/// <summary>
/// The central directory of a zip archive (ZIP64 included), read strictly and only as far as reading
/// stored entries in place needs: names, methods, sizes and where each entry's data starts.
/// <see cref="System.IO.Compression.ZipArchive"/> does not tell where an entry's data starts, and
/// reading through its streams would copy every chunk; GpuInfo reads tensors at file offsets.
/// CRCs are not checked, as torch.load does not check them (PyTorch builds miniz with
/// MINIZ_DISABLE_ZIP_READER_CRC32_CHECKS, pytorch/pytorch#28858), and torch.save with
/// <c>compute_crc32 = False</c> writes 0 for every entry: a check would refuse files PyTorch loads,
/// and read every byte of every tensor before any compute.
/// </summary>
internal static class ZipDirectory
{
    /// <summary>Largest central directory accepted (a torch.save file's is a few hundred bytes).</summary>
    public const int MaxDirectoryBytes = 16 << 20;

    private const uint EndSignature = 0x06054b50;
    private const uint Zip64EndSignature = 0x06064b50;
    private const uint Zip64LocatorSignature = 0x07064b50;
    private const uint CentralSignature = 0x02014b50;
    private const uint LocalSignature = 0x04034b50;
    private const int EndBytes = 22;
    private const int LocatorBytes = 20;
    private const int Zip64EndBytes = 56;
    private const int CentralBytes = 46;
    private const int LocalBytes = 30;

    /// <summary>Whether the file starts as a zip archive does (a local file header or an empty archive).</summary>
    public static bool Sniff(FileStream file)
    {
        Span<byte> head = stackalloc byte[4];
        if (FileAccess.ReadAtMost(file, head, 0) < 4)
        {
            return false;
        }

        uint signature = BinaryPrimitives.ReadUInt32LittleEndian(head);
        return signature is LocalSignature or EndSignature;
    }

    /// <summary>Every entry of the archive, in central-directory order, with sizes and offsets that fit the file.</summary>
    /// <exception cref="InvalidFileException">No end of central directory, a malformed or inconsistent directory, a multi-disk or encrypted archive.</exception>
    public static IReadOnlyList<ZipEntry> Read(FileStream file, string path)
    {
        long length = file.Length;
        var (count, directorySize, directoryOffset, directoryEnd) = FindDirectory(file, path, length);
        if (directorySize > MaxDirectoryBytes)
        {
            throw Bad(path, $"its central directory of {directorySize} bytes exceeds the limit of {MaxDirectoryBytes} bytes.");
        }

        if (directoryOffset > directoryEnd - directorySize)
        {
            throw Bad(path, $"its central directory (offset {directoryOffset}, {directorySize} bytes) runs past the directory's end at byte {directoryEnd}: truncated or corrupt.");
        }

        var directory = new byte[directorySize];
        FileAccess.ReadExactly(file, directory, directoryOffset, path);
        var entries = new List<ZipEntry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        int at = 0;
        while (at < directory.Length)
        {
            var entry = ReadCentral(path, directory, ref at, directoryOffset);
            if (!names.Add(entry.Name))
            {
                throw Bad(path, $"entry '{entry.Name}' appears twice.");
            }

            entries.Add(entry);
        }

        if (entries.Count != count)
        {
            throw Bad(path, $"its central directory holds {entries.Count} entries, its end record says {count}.");
        }

        return entries;
    }

    /// <summary>Where the data of a stored (uncompressed) entry starts, checked against its local header and the directory.</summary>
    /// <exception cref="InvalidFileException">The entry is compressed, or its local header is missing or disagrees with the directory.</exception>
    public static long StoredDataOffset(FileStream file, ZipEntry entry, string path)
    {
        if (entry.Method != 0)
        {
            throw Bad(path, $"entry '{entry.Name}' is compressed (method {entry.Method}); torch.save stores its entries uncompressed.");
        }

        if (entry.CompressedSize != entry.Size)
        {
            throw Bad(path, $"entry '{entry.Name}' is stored but its sizes differ ({entry.CompressedSize} and {entry.Size} bytes).");
        }

        Span<byte> local = stackalloc byte[LocalBytes];
        if (entry.LocalHeaderOffset > file.Length - LocalBytes)
        {
            throw Bad(path, $"entry '{entry.Name}': its local header at byte {entry.LocalHeaderOffset} lies past the end of the file.");
        }

        FileAccess.ReadExactly(file, local, entry.LocalHeaderOffset, path);
        if (BinaryPrimitives.ReadUInt32LittleEndian(local) != LocalSignature)
        {
            throw Bad(path, $"entry '{entry.Name}': no local file header at byte {entry.LocalHeaderOffset}.");
        }

        int method = BinaryPrimitives.ReadUInt16LittleEndian(local[8..]);
        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(local[26..]);
        int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(local[28..]);
        if (method != entry.Method)
        {
            throw Bad(path, $"entry '{entry.Name}': its local header says method {method}, the central directory {entry.Method}.");
        }

        var name = new byte[nameLength];
        FileAccess.ReadExactly(file, name, entry.LocalHeaderOffset + LocalBytes, path);
        if (Encoding.UTF8.GetString(name) != entry.Name)
        {
            throw Bad(path, $"entry '{entry.Name}': its local header names it '{Encoding.UTF8.GetString(name)}'.");
        }

        long data = entry.LocalHeaderOffset + LocalBytes + nameLength + extraLength;
        if (entry.Size > entry.Limit - data)
        {
            throw Bad(path, $"entry '{entry.Name}' ({entry.Size} bytes from byte {data}) runs past byte {entry.Limit}, where the central directory starts: truncated or corrupt.");
        }

        return data;
    }

    private static (long Count, long Size, long Offset, long End) FindDirectory(FileStream file, string path, long length)
    {
        // The end record is the last 22 bytes plus a comment of up to 65,535 bytes.
        int tail = (int)Math.Min(length, EndBytes + ushort.MaxValue);
        var buffer = new byte[tail];
        FileAccess.ReadExactly(file, buffer, length - tail, path);
        int end = -1;
        for (int i = tail - EndBytes; i >= 0; i--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(i)) == EndSignature
                && i + EndBytes + BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(i + 20)) == tail)
            {
                end = i;
                break;
            }
        }

        if (end < 0)
        {
            throw Bad(path, "no zip end-of-central-directory record: truncated, or not a zip archive.");
        }

        var record = buffer.AsSpan(end, EndBytes);
        long endAt = length - tail + end;
        int disk = BinaryPrimitives.ReadUInt16LittleEndian(record[4..]);
        int directoryDisk = BinaryPrimitives.ReadUInt16LittleEndian(record[6..]);
        long countOnDisk = BinaryPrimitives.ReadUInt16LittleEndian(record[8..]);
        long count = BinaryPrimitives.ReadUInt16LittleEndian(record[10..]);
        long size = BinaryPrimitives.ReadUInt32LittleEndian(record[12..]);
        long offset = BinaryPrimitives.ReadUInt32LittleEndian(record[16..]);
        bool zip64 = endAt >= LocatorBytes
            && (count == ushort.MaxValue || size == uint.MaxValue || offset == uint.MaxValue
                || (end >= LocatorBytes && BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(end - LocatorBytes)) == Zip64LocatorSignature));
        if (!zip64)
        {
            CheckOneDisk(path, disk, directoryDisk, countOnDisk, count);
            return (count, size, offset, endAt);
        }

        return ReadZip64End(file, path, endAt);
    }

    private static (long Count, long Size, long Offset, long End) ReadZip64End(FileStream file, string path, long endAt)
    {
        Span<byte> locator = stackalloc byte[LocatorBytes];
        if (endAt < LocatorBytes)
        {
            throw Bad(path, "its end record asks for ZIP64 but there is no room for the ZIP64 locator.");
        }

        FileAccess.ReadExactly(file, locator, endAt - LocatorBytes, path);
        if (BinaryPrimitives.ReadUInt32LittleEndian(locator) != Zip64LocatorSignature)
        {
            throw Bad(path, "its end record asks for ZIP64 but the ZIP64 locator is missing.");
        }

        long recordAt = NonNegative(path, BinaryPrimitives.ReadUInt64LittleEndian(locator[8..]), "ZIP64 end record offset");
        long locatorAt = endAt - LocatorBytes;
        if (BinaryPrimitives.ReadUInt32LittleEndian(locator[4..]) != 0 || BinaryPrimitives.ReadUInt32LittleEndian(locator[16..]) > 1)
        {
            throw Bad(path, "multi-disk zip archives are not supported.");
        }

        if (recordAt < 0 || recordAt > locatorAt - Zip64EndBytes)
        {
            throw Bad(path, $"the ZIP64 end record's offset {recordAt} does not fit before its locator at byte {locatorAt}.");
        }

        Span<byte> record = stackalloc byte[Zip64EndBytes];
        FileAccess.ReadExactly(file, record, recordAt, path);
        if (BinaryPrimitives.ReadUInt32LittleEndian(record) != Zip64EndSignature)
        {
            throw Bad(path, $"no ZIP64 end-of-central-directory record at byte {recordAt}.");
        }

        long disk = BinaryPrimitives.ReadUInt32LittleEndian(record[16..]);
        long directoryDisk = BinaryPrimitives.ReadUInt32LittleEndian(record[20..]);
        long countOnDisk = NonNegative(path, BinaryPrimitives.ReadUInt64LittleEndian(record[24..]), "ZIP64 entry count");
        long count = NonNegative(path, BinaryPrimitives.ReadUInt64LittleEndian(record[32..]), "ZIP64 entry count");
        long size = NonNegative(path, BinaryPrimitives.ReadUInt64LittleEndian(record[40..]), "ZIP64 directory size");
        long offset = NonNegative(path, BinaryPrimitives.ReadUInt64LittleEndian(record[48..]), "ZIP64 directory offset");
        CheckOneDisk(path, disk, directoryDisk, countOnDisk, count);
        return (count, size, offset, recordAt);
    }

    private static ZipEntry ReadCentral(string path, byte[] directory, ref int at, long directoryOffset)
    {
        if (directory.Length - at < CentralBytes || BinaryPrimitives.ReadUInt32LittleEndian(directory.AsSpan(at)) != CentralSignature)
        {
            throw Bad(path, $"no central directory entry at byte {directoryOffset + at}.");
        }

        var header = directory.AsSpan(at, CentralBytes);
        int flags = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);
        int method = BinaryPrimitives.ReadUInt16LittleEndian(header[10..]);
        long compressed = BinaryPrimitives.ReadUInt32LittleEndian(header[20..]);
        long size = BinaryPrimitives.ReadUInt32LittleEndian(header[24..]);
        int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(header[28..]);
        int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(header[30..]);
        int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(header[32..]);
        int disk = BinaryPrimitives.ReadUInt16LittleEndian(header[34..]);
        long local = BinaryPrimitives.ReadUInt32LittleEndian(header[42..]);
        if (directory.Length - at - CentralBytes < nameLength + extraLength + commentLength)
        {
            throw Bad(path, $"the central directory entry at byte {directoryOffset + at} runs past the directory's end.");
        }

        string name = Encoding.UTF8.GetString(directory, at + CentralBytes, nameLength);
        var extra = directory.AsSpan(at + CentralBytes + nameLength, extraLength);
        at += CentralBytes + nameLength + extraLength + commentLength;
        if ((flags & 1) != 0)
        {
            throw Bad(path, $"entry '{name}' is encrypted.");
        }

        ReadZip64Extra(path, name, extra, ref size, ref compressed, ref local, ref disk);
        if (disk != 0)
        {
            throw Bad(path, "multi-disk zip archives are not supported.");
        }

        if (local >= directoryOffset || compressed > directoryOffset - local)
        {
            throw Bad(path, $"entry '{name}' ({compressed} bytes at byte {local}) does not fit before the central directory at byte {directoryOffset}.");
        }

        return new ZipEntry(name, method, compressed, size, local, directoryOffset);
    }

    /// <summary>The ZIP64 extra field (id 1) holds, in this order, each of the four values whose 32- or 16-bit field is saturated.</summary>
    private static void ReadZip64Extra(string path, string name, ReadOnlySpan<byte> extra, ref long size, ref long compressed, ref long local, ref int disk)
    {
        bool needSize = size == uint.MaxValue, needCompressed = compressed == uint.MaxValue, needLocal = local == uint.MaxValue, needDisk = disk == ushort.MaxValue;
        if (!(needSize || needCompressed || needLocal || needDisk))
        {
            return;
        }

        while (extra.Length >= 4)
        {
            int id = BinaryPrimitives.ReadUInt16LittleEndian(extra);
            int length = BinaryPrimitives.ReadUInt16LittleEndian(extra[2..]);
            if (length > extra.Length - 4)
            {
                break;
            }

            var data = extra.Slice(4, length);
            if (id == 1)
            {
                int need = (needSize ? 8 : 0) + (needCompressed ? 8 : 0) + (needLocal ? 8 : 0) + (needDisk ? 4 : 0);
                if (data.Length < need)
                {
                    throw Bad(path, $"entry '{name}': its ZIP64 extra field holds {data.Length} bytes, {need} are needed.");
                }

                int at = 0;
                size = needSize ? Next64(path, name, data, ref at) : size;
                compressed = needCompressed ? Next64(path, name, data, ref at) : compressed;
                local = needLocal ? Next64(path, name, data, ref at) : local;
                disk = needDisk ? (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(data[at..]), int.MaxValue) : disk;
                return;
            }

            extra = extra[(4 + length)..];
        }

        throw Bad(path, $"entry '{name}' has saturated sizes or offsets but no ZIP64 extra field.");
    }

    private static long Next64(string path, string name, ReadOnlySpan<byte> data, ref int at)
    {
        ulong value = BinaryPrimitives.ReadUInt64LittleEndian(data[at..]);
        at += 8;
        return NonNegative(path, value, $"entry '{name}': ZIP64 size or offset");
    }

    private static void CheckOneDisk(string path, long disk, long directoryDisk, long countOnDisk, long count)
    {
        if (disk != 0 || directoryDisk != 0 || countOnDisk != count)
        {
            throw Bad(path, "multi-disk zip archives are not supported.");
        }
    }

    private static long NonNegative(string path, ulong value, string what) =>
        value <= long.MaxValue ? (long)value : throw Bad(path, $"{what} {value} is out of range.");

    private static InvalidFileException Bad(string path, string problem) => new(path, problem);
}
