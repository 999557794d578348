namespace GpuInfo.Cli.Output;

/// <summary>
/// Output paths are checked before a command does its work, so that a missing folder or a
/// read-only place fails at once rather than after an hour's solve, and writes nothing.
/// </summary>
internal static class OutputFile
{
    /// <summary>Throws a usage error (exit 2) naming <paramref name="path"/> when it cannot be written; nothing for null.</summary>
    public static void Check(string? path)
    {
        if (path is null)
        {
            return;
        }

        if (Directory.Exists(path))
        {
            throw CliException.Usage($"{path}: cannot write: it is a folder.");
        }

        // .NET says "could not find a part of the path" for both; name which.
        string? folder = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(folder) && !Directory.Exists(folder))
        {
            throw CliException.Usage(File.Exists(folder) ? $"{path}: cannot write: {folder} is a file, not a folder." : $"{path}: cannot write: no folder {folder}.");
        }

        bool existed = File.Exists(path);
        try
        {
            // OpenOrCreate: an existing file is left as it is (it may be a later input's; the command refuses that itself).
            using (new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
            {
            }

            if (!existed)
            {
                File.Delete(path);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"{path}: cannot write: {e.Message}");
        }
    }
}
