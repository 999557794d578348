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
        ArgumentNullException.ThrowIfNull(write);
        using var file = Open(path, bufferSize);
        file.Run(() => write(file.Stream));
        file.Commit();
    }

    /// <summary>
    /// A file to write over time (rows at their offsets as a run finishes them): its <see cref="Pending.Stream"/>
    /// is the temporary file, which <see cref="Pending.Commit"/> moves over <paramref name="path"/>; disposed
    /// without, it is deleted and the path left as it was.
    /// </summary>
    public static Pending Open(string path, int bufferSize = 4096)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (FileKind.IsSpecial(path))
        {
            return new Pending(new FileStream(path, FileMode.Open, System.IO.FileAccess.Write, FileShare.ReadWrite, bufferSize), null, path);
        }

        string full = FileKind.Resolved(path);

        string temporary = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        var pending = new Pending(null, temporary, full);
        pending.Run(() => pending.Stream = new FileStream(temporary, FileMode.CreateNew, System.IO.FileAccess.ReadWrite, FileShare.Read, bufferSize));
        return pending;
    }

    /// <summary>See <see cref="Open"/>.</summary>
    internal sealed class Pending : IDisposable
    {
        private readonly string? _temporary;
        private readonly string _path;
        private bool _committed;

        internal Pending(FileStream? stream, string? temporary, string path)
        {
            Stream = stream!;
            _temporary = temporary;
            _path = path;
        }

        public FileStream Stream { get; internal set; }

        /// <summary>Flushes the file to disk and moves it over the path (a device was written in place).</summary>
        public void Commit()
        {
            Run(() =>
            {
                Stream.Flush(flushToDisk: _temporary is not null);
                Stream.Dispose();
                if (_temporary is not null)
                {
                    File.Move(_temporary, _path, overwrite: true);
                }
            });
            _committed = true;
        }

        /// <summary>Runs <paramref name="action"/>, with any failure's message naming the path, never the temporary file (a user would look for a file they never named).</summary>
        public void Run(Action action)
        {
            try
            {
                action();
            }
            catch (Exception e) when (_temporary is not null && e is IOException or UnauthorizedAccessException && e.Message.Contains(_temporary, StringComparison.Ordinal))
            {
                string message = e.Message.Replace(_temporary, _path, StringComparison.Ordinal);
                throw e switch
                {
                    UnauthorizedAccessException => new UnauthorizedAccessException(message, e),
                    DirectoryNotFoundException => new DirectoryNotFoundException(message, e),
                    _ => new IOException(message, e),
                };
            }
        }

        public void Dispose()
        {
            Stream?.Dispose();
            if (!_committed && _temporary is not null && File.Exists(_temporary))
            {
                File.Delete(_temporary);
            }
        }
    }
}
