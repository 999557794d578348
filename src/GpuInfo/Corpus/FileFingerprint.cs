using System.Security.Cryptography;

namespace GpuInfo.Corpus;

/// <summary>
/// A file a source reads, as partials record it: its role ("logits", "targets"), path, size in
/// bytes and the SHA-256 of its header (the bytes before the tensor data), which names the dtype,
/// shape and layout. Two runs over files with the same fingerprints read the same tensors.
/// </summary>
public sealed record FileFingerprint(string Role, string Path, long Bytes, string HeaderSha256)
{
    /// <summary>Fingerprints a file whose header is its first <paramref name="headerBytes"/> bytes.</summary>
    public static FileFingerprint Of(string role, string path, long headerBytes)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        var header = new byte[checked((int)Math.Min(headerBytes, file.Length))];
        RandomAccess.Read(file.SafeFileHandle, header, 0);
        return new FileFingerprint(role, path, file.Length, Convert.ToHexStringLower(SHA256.HashData(header)));
    }
}
