using Microsoft.Win32.SafeHandles;

namespace GpuInfo.Formats;

/// <summary>File opening and positional reads that turn I/O failures into <see cref="InvalidFileException"/>.</summary>
internal static class FileAccess
{
    public static FileStream OpenRead(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, System.IO.FileAccess.Read, FileShare.Read, 1, FileOptions.RandomAccess);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new InvalidFileException(path, "file not found.");
        }
        catch (UnauthorizedAccessException)
        {
            throw new InvalidFileException(path, Directory.Exists(path) ? "is a folder, not a file." : "permission denied.");
        }
        catch (IOException e)
        {
            throw new InvalidFileException(path, $"cannot open: {e.Message}");
        }
    }

    /// <summary>Reads from a stream (a pipe hands out what it holds) until <paramref name="buffer"/> is full or the stream ends; the count read.</summary>
    public static int ReadUpTo(Stream stream, Span<byte> buffer, string path)
    {
        int total = 0;
        try
        {
            while (total < buffer.Length)
            {
                int n = stream.Read(buffer[total..]);
                if (n == 0)
                {
                    break;
                }

                total += n;
            }
        }
        catch (IOException e)
        {
            throw new InvalidFileException(path, $"read failed: {e.Message}");
        }

        return total;
    }

    public static int ReadAtMost(FileStream file, Span<byte> buffer, long offset) =>
        RandomAccess.Read(file.SafeFileHandle, buffer, offset);

    public static void ReadExactly(FileStream file, Span<byte> buffer, long offset, string path) =>
        ReadExactly(file.SafeFileHandle, buffer, offset, path);

    public static void ReadExactly(SafeFileHandle handle, Span<byte> buffer, long offset, string path)
    {
        while (!buffer.IsEmpty)
        {
            int n;
            try
            {
                n = RandomAccess.Read(handle, buffer, offset);
            }
            catch (IOException e)
            {
                throw new InvalidFileException(path, $"read failed: {e.Message}");
            }

            if (n == 0)
            {
                throw new InvalidFileException(path, "unexpected end of file (truncated).");
            }

            buffer = buffer[n..];
            offset += n;
        }
    }
}
