using System.Runtime.InteropServices;

namespace GpuInfo.Backends.Cpu.Blas;

/// <summary>
/// cblas_sgemm from a BLAS found at run time: the library GPUINFO_BLAS names, else OpenBLAS
/// (libopenblas0 on Debian/Ubuntu, Homebrew's openblas, openblas.dll) or Apple's Accelerate. No
/// package ships a portable BLAS for .NET, so the system's is used where there is one and the
/// managed kernels everywhere else. OpenBLAS's thread count is process-wide; it is set to the
/// engine's worker count when the library loads.
/// </summary>
internal sealed unsafe class NativeSgemm : Sgemm
{
    internal const int RowMajor = 101;
    internal const int NoTrans = 111;
    internal const int Trans = 112;

    private static readonly string[] Candidates =
    [
        "libopenblas.so.0", "libopenblas.so", "libopenblas64_.so.0",
        "libopenblas.dylib", "/opt/homebrew/opt/openblas/lib/libopenblas.dylib", "/usr/local/opt/openblas/lib/libopenblas.dylib",
        "/System/Library/Frameworks/Accelerate.framework/Accelerate",
        "libopenblas.dll", "openblas.dll",
    ];

    private readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemm;

    private NativeSgemm(string name, nint sgemm)
    {
        Name = name;
        _sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm;
    }

    /// <summary>Why no system BLAS is used, when none loaded: the libraries tried.</summary>
    public static string Missing => $"no BLAS with cblas_sgemm found (tried {string.Join(", ", LibraryNames())})";

    public override string Name { get; }

    /// <summary>The first library that loads and exports cblas_sgemm, or null with the reason.</summary>
    public static NativeSgemm? TryLoad(int threads, out string reason)
    {
        if (TryExport("cblas_sgemm", threads, out nint sgemm, out string name))
        {
            reason = string.Empty;
            return new NativeSgemm(name, sgemm);
        }

        reason = Missing;
        return null;
    }

    /// <summary>
    /// <paramref name="symbol"/> from the first candidate library that loads and exports it, with the
    /// library's description; its threads (OpenBLAS's count is process-wide) set to <paramref name="threads"/>.
    /// </summary>
    internal static bool TryExport(string symbol, int threads, out nint function, out string name)
    {
        foreach (string library in LibraryNames())
        {
            if (!NativeLibrary.TryLoad(library, out nint handle) || !NativeLibrary.TryGetExport(handle, symbol, out function))
            {
                continue;
            }

            string vendor = library.Contains("Accelerate", StringComparison.Ordinal) ? "Accelerate" : library.Contains("openblas", StringComparison.OrdinalIgnoreCase) ? "OpenBLAS" : "BLAS";
            if (NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out nint setThreads) && threads > 0)
            {
                ((delegate* unmanaged<int, void>)setThreads)(threads);
            }

            name = Describe(handle, vendor, library);
            return true;
        }

        function = 0;
        name = string.Empty;
        return false;
    }

    public override void MultiplyTransposed(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc)
    {
        CheckOperand(m, k, lda, a.Length, nameof(a));
        CheckOperand(n, k, ldb, b.Length, nameof(b));
        CheckOperand(m, n, ldc, c.Length, nameof(c));
        Call(NoTrans, Trans, m, n, k, a, lda, b, ldb, c, ldc, accumulate: false);
    }

    public override void MultiplyTransposedLeft(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate = false)
    {
        CheckOperand(k, m, lda, a.Length, nameof(a));
        CheckOperand(k, n, ldb, b.Length, nameof(b));
        CheckOperand(m, n, ldc, c.Length, nameof(c));
        Call(Trans, NoTrans, m, n, k, a, lda, b, ldb, c, ldc, accumulate);
    }

    /// <summary>
    /// "OpenBLAS 0.3.21 (libopenblas.so.0, Cooperlake kernels)": an OpenBLAS built for several CPUs
    /// picks its kernels at load time, and OPENBLAS_CORETYPE overrides the pick (then named too, as
    /// "...; OPENBLAS_CORETYPE=Haswell)"). On the 2-core AVX-512 VM its Haswell kernels multiply at
    /// 195-213 GFLOP/s and its Cooperlake ones at 356-381, so a report that names no kernels cannot be
    /// compared.
    /// </summary>
    private static string Describe(nint handle, string vendor, string library)
    {
        string version = string.Empty, kernels = string.Empty;
        if (NativeLibrary.TryGetExport(handle, "openblas_get_config", out nint getConfig)
            && Marshal.PtrToStringUTF8(((delegate* unmanaged<nint>)getConfig)()) is { } config
            && config.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [_, var number, ..])
        {
            version = " " + number;
        }

        if (NativeLibrary.TryGetExport(handle, "openblas_get_corename", out nint getCore)
            && Marshal.PtrToStringUTF8(((delegate* unmanaged<nint>)getCore)()) is { Length: > 0 } core)
        {
            kernels = $", {char.ToUpperInvariant(core[0])}{core[1..]} kernels";
            if (Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") is { Length: > 0 } forced)
            {
                kernels += $"; OPENBLAS_CORETYPE={forced}";
            }
        }

        return $"{vendor}{version} ({library}{kernels})";
    }

    private static IEnumerable<string> LibraryNames() =>
        Environment.GetEnvironmentVariable("GPUINFO_BLAS") is { Length: > 0 } named ? [named] : Candidates;

    private void Call(int transA, int transB, int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate)
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        if (k == 0)
        {
            if (accumulate)
            {
                return;
            }

            for (int i = 0; i < m; i++)
            {
                c.Slice(i * ldc, n).Clear();
            }

            return;
        }

        fixed (float* pa = a, pb = b, pc = c)
        {
            _sgemm(RowMajor, transA, transB, m, n, k, 1f, pa, lda, pb, ldb, accumulate ? 1f : 0f, pc, ldc);
        }
    }
}
