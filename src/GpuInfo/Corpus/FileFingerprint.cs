using System.Security.Cryptography;

namespace GpuInfo.Corpus;

/// <summary>
/// A file a source reads, as partials record it: its role ("logits", "targets"), path, size in
/// bytes, the SHA-256 of its header (the bytes that name dtypes, shapes and layout; at most 100 MB
/// for .safetensors, and for a torch.save .pt the file's start to the end of its pickle) and the SHA-256 of a sample of its contents (<see cref="SampleBlocks"/> blocks
/// of <see cref="SampleBlockBytes"/> spread evenly over the file; the whole file when it is smaller).
/// It tells apart files of different shapes, dtypes, sizes or layouts, and files that differ in
/// their values wherever they differ in most of them (logits of another model or text), reading at
/// most 1 MiB of each: a cheap guard against merging shards of different inputs, not a content hash.
/// </summary>
public sealed record FileFingerprint(string Role, string Path, long Bytes, string HeaderSha256, string SampleSha256)
{
    public const int SampleBlocks = 16;

    public const int SampleBlockBytes = 64 << 10;

    /// <summary>
    /// Fingerprints a stream (a pipe) by its <paramref name="header"/> alone: its values cannot be
    /// sampled without reading them, so the sample's hash is that of no bytes.
    /// </summary>
    public static FileFingerprint OfStream(string role, string name, long bytes, byte[] header) =>
        new(role, name, bytes, Convert.ToHexStringLower(SHA256.HashData(header)), Convert.ToHexStringLower(SHA256.HashData(ReadOnlySpan<byte>.Empty)));

    /// <summary>Fingerprints a file whose header is its first <paramref name="headerBytes"/> bytes (a validated header: well under 2 GiB).</summary>
    /// <exception cref="Formats.InvalidFileException">The file cannot be opened or read.</exception>
    public static FileFingerprint Of(string role, string path, long headerBytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = Formats.FileAccess.OpenRead(path);
        long length = file.Length;
        var header = new byte[checked((int)Math.Min(headerBytes, length))];
        Formats.FileAccess.ReadExactly(file, header, 0, path);
        using var sample = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var block = new byte[(int)Math.Min(SampleBlockBytes, length)];
        foreach (long offset in SampleOffsets(length))
        {
            var piece = block.AsSpan(0, (int)Math.Min(SampleBlockBytes, length - offset));
            Formats.FileAccess.ReadExactly(file, piece, offset, path);
            sample.AppendData(piece);
        }

        return new FileFingerprint(role, path, length, Convert.ToHexStringLower(SHA256.HashData(header)), Convert.ToHexStringLower(sample.GetHashAndReset()));
    }

    /// <summary>Fingerprints bytes held in memory (e.g. an embedded model) as <see cref="Of(string, string, long)"/> would their file.</summary>
    public static FileFingerprint Of(string role, string name, ReadOnlySpan<byte> bytes, long headerBytes)
    {
        using var sample = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (long offset in SampleOffsets(bytes.Length))
        {
            sample.AppendData(bytes.Slice((int)offset, (int)Math.Min(SampleBlockBytes, bytes.Length - offset)));
        }

        var header = bytes[..(int)Math.Min(headerBytes, bytes.Length)];
        return new FileFingerprint(role, name, bytes.Length, Convert.ToHexStringLower(SHA256.HashData(header)), Convert.ToHexStringLower(sample.GetHashAndReset()));
    }

    /// <summary>Where the sampled blocks start: the whole file in blocks when it is small, else evenly spaced from its start to its end.</summary>
    private static IEnumerable<long> SampleOffsets(long length)
    {
        if (length <= (long)SampleBlocks * SampleBlockBytes)
        {
            for (long offset = 0; offset < length; offset += SampleBlockBytes)
            {
                yield return offset;
            }

            yield break;
        }

        for (int k = 0; k < SampleBlocks; k++)
        {
            yield return k * (length - SampleBlockBytes) / (SampleBlocks - 1);
        }
    }
}
