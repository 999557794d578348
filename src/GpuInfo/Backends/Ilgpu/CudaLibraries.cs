using System.Reflection;
using System.Runtime.InteropServices;
using ILGPU.Runtime.Cuda;

namespace GpuInfo.Backends.Ilgpu;

/// <summary>
/// Where ILGPU's CUDA libraries are found on Linux. ILGPU 1.5.3 imports the driver as "cuda", which
/// the loader only finds as an unversioned libcuda.so: a development symlink that a machine with
/// just the driver (a container, a fresh node) may lack, while libcuda.so.1 is always there.
/// ILGPU.Algorithms 1.5.3 imports cuBLAS as libcublas.so.12 (then .11, .10), so the libcublas.so.13
/// of CUDA 13, or a cuBLAS that only a Python wheel installed, is never found, and the IB over rows
/// would silently fall back to the tiled kernel. Resolvers on the two assemblies try, in order:
/// the driver's libcuda.so.1; for cuBLAS, the file GPUINFO_CUBLAS names (nothing else when it is
/// set), else libcublas.so.13 then .12 on the loader's path. Whatever they do not resolve falls back
/// to the loader's default probing. Not installed on WSL, where ILGPU installs its own resolver.
/// </summary>
internal static class CudaLibraries
{
    public const string CuBlasVariable = "GPUINFO_CUBLAS";

    /// <summary>The library name ILGPU.Algorithms asks for first (its newest cuBLAS).</summary>
    public const string CuBlasImport = "libcublas.so.12";

    /// <summary>The library name ILGPU imports the CUDA driver API from on Linux.</summary>
    public const string DriverImport = "cuda";

    private static readonly object Gate = new();
    private static bool _registered;

    /// <summary>Installs the resolvers once per process (Linux only, not on WSL); later calls do nothing.</summary>
    public static void Register()
    {
        lock (Gate)
        {
            if (_registered || !OperatingSystem.IsLinux() || IsWsl())
            {
                _registered = true;
                return;
            }

            _registered = true;
            TrySetResolver(typeof(CudaAccelerator).Assembly);
            TrySetResolver(typeof(CuBlas<>).Assembly);
        }
    }

    /// <summary>
    /// The files tried, in order, for a library an ILGPU assembly imports, or none when the loader's
    /// default probing should handle it alone.
    /// </summary>
    public static IReadOnlyList<string> Candidates(string libraryName, string? cuBlasOverride) => libraryName switch
    {
        DriverImport => ["libcuda.so.1"],
        CuBlasImport when !string.IsNullOrEmpty(cuBlasOverride) => [cuBlasOverride],
        CuBlasImport => ["libcublas.so.13", "libcublas.so.12"],
        _ => [],
    };

    private static void TrySetResolver(Assembly assembly)
    {
        try
        {
            NativeLibrary.SetDllImportResolver(assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // The assembly already has a resolver (the host installed one): keep it.
        }
    }

    /// <summary>
    /// A handle to the first candidate that loads, or 0 to leave the name to the loader's default
    /// probing.
    /// </summary>
    /// <exception cref="DllNotFoundException"><paramref name="cuBlasOverride"/> is set and does not load.</exception>
    public static nint Resolve(string libraryName, string? cuBlasOverride)
    {
        foreach (string candidate in Candidates(libraryName, cuBlasOverride))
        {
            if (NativeLibrary.TryLoad(candidate, out nint handle))
            {
                return handle;
            }
        }

        if (libraryName == CuBlasImport && !string.IsNullOrEmpty(cuBlasOverride))
        {
            throw new DllNotFoundException($"{CuBlasVariable}={cuBlasOverride} could not be loaded.");
        }

        return 0;
    }

    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) =>
        Resolve(libraryName, Environment.GetEnvironmentVariable(CuBlasVariable));

    private static bool IsWsl()
    {
        try
        {
            return Directory.Exists("/usr/lib/wsl/lib")
                && File.ReadAllText("/proc/version").Contains("microsoft", StringComparison.OrdinalIgnoreCase);
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }
}
