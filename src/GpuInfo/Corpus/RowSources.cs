using GpuInfo.Formats;

namespace GpuInfo.Corpus;

/// <summary>
/// Opens the right source for a path: a pipe (a named pipe, or <see cref="StandardInput"/>) carrying
/// .npy logits, a llama.cpp .kld file (by its magic), else .npy / .safetensors / .pt logits.
/// </summary>
public static class RowSources
{
    /// <summary>The path that names the process's standard input (as a .npy stream of logits).</summary>
    public const string StandardInput = "-";

    /// <summary>Opens <paramref name="path"/> with optional targets (a .kld file carries its own, so takes none).</summary>
    /// <remarks>A named pipe is opened once (which waits for its writer) and read as a .npy stream: see <see cref="FileRowSource.OpenPipe"/>.</remarks>
    /// <exception cref="InvalidFileException">A file is missing or malformed, or the targets do not fit.</exception>
    /// <exception cref="ArgumentException">Targets, shift or a tensor name given for a .kld file.</exception>
    public static RowSource Open(string path, string? targetsPath = null, FileRowSourceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path == StandardInput)
        {
            PipeCapacity.TryEnlarge(0); // a file redirected to stdin is no pipe: then nothing changes
            return FileRowSource.OpenPipe(Console.OpenStandardInput(), "stdin", targetsPath, options);
        }

        if (OpenIfPipe(path) is { } pipe)
        {
            PipeCapacity.TryEnlarge(pipe.SafeFileHandle);
            return FileRowSource.OpenPipe(pipe, path, targetsPath, options);
        }

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

    /// <summary>
    /// Opens each path as <see cref="Open(string, string?, FileRowSourceOptions?)"/> does, the i-th with
    /// the i-th targets (and byte counts), and reads them as one corpus in the order given
    /// (<see cref="ConcatenatedRowSource"/>); one path gives that file's source itself.
    /// </summary>
    /// <param name="targetsPaths">Null, or one per path (a .kld file's entry null).</param>
    /// <param name="targetBytesPaths">Null, or one per path: each part's <see cref="FileRowSourceOptions.TargetBytesPath"/> (that of <paramref name="options"/> is then not used).</param>
    /// <exception cref="ArgumentException">No paths, or a list of targets or byte counts of another length.</exception>
    /// <exception cref="InvalidFileException">A file is missing or malformed, or its targets do not fit it.</exception>
    /// <exception cref="RowSourceException">The files do not fit together (see <see cref="ConcatenatedRowSource.Of"/>).</exception>
    public static RowSource Open(IReadOnlyList<string> paths, IReadOnlyList<string?>? targetsPaths, FileRowSourceOptions? options = null,
        IReadOnlyList<string?>? targetBytesPaths = null)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.Count == 0)
        {
            throw new ArgumentException("no files given.", nameof(paths));
        }

        if (targetsPaths is not null && targetsPaths.Count != paths.Count)
        {
            throw new ArgumentException($"{targetsPaths.Count} targets files for {paths.Count} logits files: give one per logits file, in the same order.", nameof(targetsPaths));
        }

        if (targetBytesPaths is not null && targetBytesPaths.Count != paths.Count)
        {
            throw new ArgumentException($"{targetBytesPaths.Count} byte-count files for {paths.Count} logits files: give one per logits file, in the same order.", nameof(targetBytesPaths));
        }

        if (paths.Count > 1 && paths.Contains(StandardInput))
        {
            throw new ArgumentException("standard input (-) cannot be one of several files: a stream is read once, alone.", nameof(paths));
        }

        var parts = new List<RowSource>(paths.Count);
        try
        {
            for (int i = 0; i < paths.Count; i++)
            {
                var partOptions = targetBytesPaths is null ? options : (options ?? new FileRowSourceOptions()) with { TargetBytesPath = targetBytesPaths[i] };
                parts.Add(Open(paths[i], targetsPaths?[i], partOptions));
            }
        }
        catch
        {
            parts.ForEach(p => p.Dispose());
            throw;
        }

        return ConcatenatedRowSource.Of(parts);
    }

    /// <summary>The path opened for reading when it is a pipe (which cannot seek); null for a file, or a path that does not open (the file readers then say why).</summary>
    private static FileStream? OpenIfPipe(string path)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, System.IO.FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return null;
        }

        if (stream.CanSeek)
        {
            stream.Dispose();
            return null;
        }

        return stream;
    }
}
