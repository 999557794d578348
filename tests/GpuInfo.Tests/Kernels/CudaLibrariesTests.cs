using System.Reflection;
using GpuInfo.Backends.Ilgpu;
using ILGPU.Runtime.Cuda;

namespace GpuInfo.Tests.Kernels;

/// <summary>
/// The library names ILGPU 1.5.3 imports, and where <see cref="CudaLibraries"/> looks for them
/// (a machine with only the driver and a Python wheel's cuBLAS 13 is the case it exists for).
/// </summary>
public sealed class CudaLibrariesTests
{
    [Fact]
    public void The_resolvers_match_the_names_ILGPU_imports()
    {
        // If an ILGPU upgrade renames its imports, the resolvers would silently stop applying.
        Assert.Contains(CudaLibraries.DriverImport, LibraryNames(typeof(CudaAccelerator).Assembly));
        var cuBlasNames = LibraryNames(typeof(CuBlas<>).Assembly);
        Assert.Contains(CudaLibraries.CuBlasImport, cuBlasNames);
        Assert.DoesNotContain("libcublas.so.13", cuBlasNames);
    }

    [Fact]
    public void The_driver_is_its_soname_and_cublas_the_newest_first()
    {
        Assert.Equal(["libcuda.so.1"], CudaLibraries.Candidates("cuda", null));
        Assert.Equal(["libcublas.so.13", "libcublas.so.12"], CudaLibraries.Candidates("libcublas.so.12", null));
        Assert.Equal(["libcublas.so.13", "libcublas.so.12"], CudaLibraries.Candidates("libcublas.so.12", string.Empty));
        Assert.Equal(["/opt/x/libcublas.so.13"], CudaLibraries.Candidates("libcublas.so.12", "/opt/x/libcublas.so.13"));
        Assert.Empty(CudaLibraries.Candidates("libcublas.so.11", null));
        Assert.Empty(CudaLibraries.Candidates("libcufft.so.11", "/opt/x/libcublas.so.13"));
    }

    [Fact]
    public void A_named_cublas_is_loaded_or_the_failure_names_the_variable()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "the resolvers apply on Linux only");
        var missing = Path.Combine(Path.GetTempPath(), $"gpuinfo-no-such-{Guid.NewGuid():N}.so");
        var e = Assert.Throws<DllNotFoundException>(() => CudaLibraries.Resolve("libcublas.so.12", missing));
        Assert.Contains($"GPUINFO_CUBLAS={missing}", e.Message, StringComparison.Ordinal);

        // Any loadable file stands in for a named cuBLAS: the resolver loads what it is told to.
        Assert.NotEqual(0, CudaLibraries.Resolve("libcublas.so.12", "libc.so.6"));
        Assert.Equal(0, CudaLibraries.Resolve("libcufft.so.11", "libc.so.6"));
    }

    [Fact]
    public void A_cublas_that_loads_but_does_not_start_is_not_reported_as_missing()
    {
        // 1 is CUBLAS_STATUS_NOT_INITIALIZED, what cublasCreate returns where the driver is too old.
        string started = CuBlasChunkProducts.FallbackReason(new CuBlasException((CuBlasStatus)1));
        Assert.StartsWith("cuBLAS loaded but did not start", started, StringComparison.Ordinal);
        Assert.Contains("GPUINFO_CUBLAS", started, StringComparison.Ordinal);

        string missing = CuBlasChunkProducts.FallbackReason(new DllNotFoundException("libcublas.so.12"));
        Assert.StartsWith("cuBLAS not loaded (DllNotFoundException: libcublas.so.12", missing, StringComparison.Ordinal);
    }

    /// <summary>Every string constant named LibName* in the assembly's types (ILGPU's generated import classes: LibName, LibNameLinux, ...).</summary>
    private static List<string> LibraryNames(Assembly assembly) =>
        [.. assembly.GetTypes()
            .SelectMany(t => t.GetFields(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(f => f.IsLiteral && f.FieldType == typeof(string) && f.Name.StartsWith("LibName", StringComparison.Ordinal))
            .Select(f => (string)f.GetRawConstantValue()!)];
}
