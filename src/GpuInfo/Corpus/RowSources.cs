using GpuInfo.Formats;

namespace GpuInfo.Corpus;

/// <summary>Opens the right source for a file: a llama.cpp .kld file (by its magic), else .npy / .safetensors logits.</summary>
public static class RowSources
{
    /// <summary>Opens <paramref name="path"/> with optional targets (a .kld file carries its own, so takes none).</summary>
    /// <exception cref="InvalidFileException">A file is missing or malformed, or the targets do not fit.</exception>
    /// <exception cref="ArgumentException">Targets, shift or a tensor name given for a .kld file.</exception>
    public static RowSource Open(string path, string? targetsPath = null, FileRowSourceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!KldFormat.Sniff(path))
        {
            return FileRowSource.Open(path, targetsPath, options);
        }

        if (targetsPath is not null || options is { Shift: true } || options?.LogitsTensor is not null)
        {
            throw new ArgumentException($"{path} is a llama.cpp .kld file: it carries its tokens and rows, so it takes no targets, shift or tensor name.", nameof(targetsPath));
        }

        return KldRowSource.Open(path);
    }

    /// <summary>Whether <paramref name="path"/> carries its own targets (a .kld file).</summary>
    public static bool CarriesTargets(string path) => KldFormat.Sniff(path);
}
