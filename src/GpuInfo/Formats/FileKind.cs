using System.Runtime.InteropServices;

namespace GpuInfo.Formats;

/// <summary>
/// What stands at a path on Linux (statx, whose layout is the same on every architecture; .NET
/// reports no file type): outputs are written atomically by a rename over the path, which must not
/// replace a device, a named pipe or a socket (`--partial /dev/stdout`, a FIFO another process reads)
/// with a regular file.
/// </summary>
internal static unsafe partial class FileKind
{
    private const int CurrentDirectory = -100; // AT_FDCWD
    private const uint TypeMask = 0x1;         // STATX_TYPE
    private const int ModeOffset = 28;         // struct statx: stx_mode, after mask, blksize, attributes, nlink, uid, gid
    private const int TypeBits = 0xF000, Regular = 0x8000, Folder = 0x4000;

    /// <summary>True where the path (its symbolic links followed) is a device, named pipe or socket; false where it is a file or folder, is absent, or the system cannot say.</summary>
    public static bool IsSpecial(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        byte* status = stackalloc byte[256];
        try
        {
            if (Statx(CurrentDirectory, path, 0, TypeMask, status) != 0)
            {
                return false;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }

        int type = *(ushort*)(status + ModeOffset) & TypeBits;
        return type is not (Regular or Folder);
    }

    /// <summary>The full path, with symbolic links followed (the file itself, where two paths may name it).</summary>
    public static string Resolved(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            return new FileInfo(full).LinkTarget is not null && File.ResolveLinkTarget(full, returnFinalTarget: true) is { } target ? target.FullName : full;
        }
        catch (IOException)
        {
            return full; // a link loop: named as given
        }
    }

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, byte* status);
}
