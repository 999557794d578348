using System.Runtime.InteropServices;

namespace GpuInfo.Backends.Cpu;

/// <summary>
/// Large, long-lived float32 buffers that Linux may back with 2 MiB pages (transparent huge pages in
/// "madvise" or "always" mode): 2 MiB-aligned native memory marked MADV_HUGEPAGE. Touching 823 MB of
/// fresh 4 KiB pages cost the 2-core VM about 200k page faults (~15 µs each) in an IB's first pass;
/// 2 MiB pages take 412. Elsewhere, or where the advice is refused, the memory is ordinary.
/// Not zeroed: the caller writes every element before reading it.
/// </summary>
internal static unsafe class LargePages
{
    private const nuint Alignment = 2 << 20;
    private const int MadviseHugePage = 14;

    private static readonly delegate* unmanaged<nint, nuint, int, int> Madvise = FindMadvise();

    /// <exception cref="OutOfMemoryException">The memory is not there.</exception>
    public static float* Allocate(long floats)
    {
        nuint bytes = (nuint)Math.Max(1, floats * sizeof(float));
        void* memory = NativeMemory.AlignedAlloc(bytes, Alignment);
        if (Madvise != null)
        {
            _ = Madvise((nint)memory, bytes, MadviseHugePage); // advice only: refused, the pages are small
        }

        return (float*)memory;
    }

    public static void Free(float* memory) => NativeMemory.AlignedFree(memory);

    private static delegate* unmanaged<nint, nuint, int, int> FindMadvise() =>
        OperatingSystem.IsLinux() && NativeLibrary.TryLoad("libc.so.6", out nint libc) && NativeLibrary.TryGetExport(libc, "madvise", out nint madvise)
            ? (delegate* unmanaged<nint, nuint, int, int>)madvise
            : null;
}
