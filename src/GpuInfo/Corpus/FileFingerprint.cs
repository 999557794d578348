using System.Security.Cryptography;

namespace GpuInfo.Corpus;

/// <summary>
/// A file a source reads, as partials record it: its role ("logits", "targets"), path, size in
/// bytes and the SHA-256 of its header (the bytes that name dtypes, shapes and layout; at most
/// 100 MB for .safetensors). It tells apart files of different shapes, dtypes, sizes or tensor
/// layouts, not two files that differ only in their values: a cheap guard against merging shards
/// of different inputs, not a content hash.
/// </summary>
public sealed record FileFingerprint(string Role, string Path, long Bytes, string HeaderSha256)
{
    /// <exception cref="Formats.InvalidFileException">The file cannot be opened.</exception>
    /// <summary>Fingerprints a file whose header is its first <paramref name="headerBytes"/> bytes (a validated header: well under 2 GiB).</summary>
    public static FileFingerprint Of(string role, string path, long headerBytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = Formats.FileAccess.OpenRead(path);
        var header = new byte[checked((int)Math.Min(headerBytes, file.Length))];
        Formats.FileAccess.ReadExactly(file, header, 0, path);
        return new FileFingerprint(role, path, file.Length, Convert.ToHexStringLower(SHA256.HashData(header)));
    }
}
