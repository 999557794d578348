namespace GpuInfo.Formats;

/// <summary>
/// Writes a file whole or not at all: into a hidden temporary file beside it, flushed, then moved
/// over the path. A write that fails (bad data found halfway, a full disk, a killed process) leaves
/// no truncated file that a later read would take for the output. A failure's message names
/// <c>path</c>, never the temporary file. A symbolic link is followed (the file it names is
/// replaced, the link kept), and a device, named pipe or socket is written to in place (a rename
/// would put a regular file where it stood).
/// </summary>
internal static class AtomicFile
{
    public static void Write(string path, Action<FileStream> write, int bufferSize = 4096)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (FileKind.IsSpecial(path))
        {
            using var device = new FileStream(path, FileMode.Open, System.IO.FileAccess.Write, FileShare.ReadWrite, bufferSize);
            write(device);
            device.Flush();
            return;
        }

        string full = Path.GetFullPath(path);
        if (new FileInfo(full).LinkTarget is not null && File.ResolveLinkTarget(full, returnFinalTarget: true) is { } target)
        {
            full = target.FullName;
        }
        string temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, System.IO.FileAccess.Write, FileShare.None, bufferSize))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, full, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && e.Message.Contains(temporary, StringComparison.Ordinal))
        {
            // The temporary file is ours: a message naming it would send the user looking for a file they never named.
            string message = e.Message.Replace(temporary, full, StringComparison.Ordinal);
            throw e switch
            {
                UnauthorizedAccessException => new UnauthorizedAccessException(message, e),
                DirectoryNotFoundException => new DirectoryNotFoundException(message, e),
                _ => new IOException(message, e),
            };
        }
        finally
        {
            if (File.Exists(temporary))
            {
                File.Delete(temporary);
            }
        }
    }
}
