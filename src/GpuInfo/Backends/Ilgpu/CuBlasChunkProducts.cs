using GpuInfo.Kernels;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace GpuInfo.Backends.Ilgpu;

/// <summary>
/// C = op(A)·op(B) (α = 1, β = 0) in BLAS's column-major convention, on device views: what
/// <see cref="CuBlasChunkProducts"/> asks of cuBLAS's SGEMM.
/// </summary>
internal delegate void ColumnMajorSgemm(CuBlasOperation transA, CuBlasOperation transB, int m, int n, int k,
    ArrayView<float> a, int lda, ArrayView<float> b, int ldb, ArrayView<float> c, int ldc);

/// <summary>
/// <see cref="IChunkProducts"/> by cuBLAS SGEMM through ILGPU.Algorithms, on CUDA accelerators only,
/// in cuBLAS's default math mode (no TF32: that needs CUBLAS_TF32_TENSOR_OP_MATH). Each float32
/// product (a vocabulary block of cross terms, a chunk's numerator) lands in a float32 scratch
/// buffer and is added into the float64 result by <see cref="MatrixProductKernel.AddWidened"/>.
/// Row-major [m, n] is column-major [n, m] to cuBLAS, hence the swapped operands. Host scalars
/// (α = 1, β = 0) with the automatic pointer mode. The calls themselves are tested without a GPU:
/// <see cref="WithGemm"/> runs them on any accelerator through another column-major SGEMM (the
/// tests' BLAS reference on ILGPU's CPU accelerator); cuBLAS itself has not yet run on a GPU
/// (CudaRowsIbKernelTests checks it against the tiled kernel where there is one).
/// </summary>
internal sealed class CuBlasChunkProducts : IChunkProducts
{
    private readonly CuBlas<CuBlasPointerModeHandlers.AutomaticMode>? _blas;
    private readonly ColumnMajorSgemm _gemm;
    private readonly DeviceArena _arena;
    private readonly Action<Index1D, ArrayView<float>, ArrayView<double>> _widen;

    private CuBlasChunkProducts(IlgpuBackend backend, ColumnMajorSgemm gemm, string name, CuBlas<CuBlasPointerModeHandlers.AutomaticMode>? blas)
    {
        _blas = blas;
        _gemm = gemm;
        Name = name;
        _arena = new DeviceArena(backend.Accelerator);
        _widen = backend.Kernels(a => a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<float>, ArrayView<double>>(MatrixProductKernel.AddWidened));
    }

    public string Name { get; }

    /// <summary>cuBLAS where <see cref="TryCreate"/> starts it, else the tiled kernel (its name says why not cuBLAS on CUDA).</summary>
    /// <inheritdoc cref="TryCreate"/>
    public static IChunkProducts OrTiled(IlgpuBackend backend) => TryCreate(backend, out string reason) ?? (IChunkProducts)new TiledChunkProducts(backend, reason);

    /// <summary>These products with <paramref name="gemm"/> in cuBLAS's place, on any accelerator whose views it can read.</summary>
    internal static CuBlasChunkProducts WithGemm(IlgpuBackend backend, ColumnMajorSgemm gemm, string name) => new(backend, gemm, name, null);

    /// <summary>
    /// cuBLAS on a CUDA accelerator whose cuBLAS library loads (<see cref="CudaLibraries"/> says
    /// where it is looked for), else null with the reason (empty off CUDA; the caller uses the tiled kernel).
    /// </summary>
    /// <exception cref="DeviceUnavailableException">GPUINFO_CUBLAS names a library that does not load as cuBLAS.</exception>
    public static CuBlasChunkProducts? TryCreate(IlgpuBackend backend, out string reason)
    {
        if (backend.Accelerator is not CudaAccelerator cuda)
        {
            reason = string.Empty;
            return null;
        }

        CudaLibraries.Register();
        CuBlas<CuBlasPointerModeHandlers.AutomaticMode>? blas = null;
        try
        {
            blas = new CuBlas<CuBlasPointerModeHandlers.AutomaticMode>(cuda);
            blas.MathMode = CuBlasMathMode.DefaultMath;
            blas.Stream = (CudaStream)cuda.DefaultStream;
            reason = string.Empty;
            var library = blas;
            return new CuBlasChunkProducts(backend, (ta, tb, m, n, k, a, lda, b, ldb, c, ldc) => library.Gemm(ta, tb, m, n, k, 1f, a, lda, b, ldb, 0f, c, ldc), "cuBLAS", blas);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or CuBlasException or NotSupportedException or TypeInitializationException)
        {
            blas?.Dispose();
            string? named = Environment.GetEnvironmentVariable(CudaLibraries.CuBlasVariable);
            if (!string.IsNullOrEmpty(named))
            {
                throw new DeviceUnavailableException($"{CudaLibraries.CuBlasVariable}={named}: cuBLAS did not start: {e.Message}", e);
            }

            reason = FallbackReason(e);
            return null;
        }
        catch
        {
            // A handle left to the finalizer throws there (CuBlas frees it with ThrowIfFailed), which ends the process.
            blas?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Why the tiled kernel runs instead: cuBLAS not found, or found but failing to start (a cuBLAS
    /// newer than the driver loads and then fails in cublasCreate, so "not loaded" would mislead).
    /// </summary>
    internal static string FallbackReason(Exception e) => e is CuBlasException
        ? $"cuBLAS loaded but did not start ({e.Message}; a cuBLAS newer than the driver supports fails so: set {CudaLibraries.CuBlasVariable} to a libcublas.so the driver supports)"
        : $"cuBLAS not loaded ({e.GetType().Name}: {e.Message}; set {CudaLibraries.CuBlasVariable} to its libcublas.so)";

    /// <summary>What the IB over rows would use on this accelerator: "cuBLAS VERSION", or why not (for <c>gpuinfo devices</c>).</summary>
    public static string Describe(IlgpuBackend backend)
    {
        if (backend.Accelerator is not CudaAccelerator)
        {
            return "not used: cuBLAS runs on CUDA only";
        }

        try
        {
            using (backend.Use())
            {
                using var products = TryCreate(backend, out string reason);
                return products is null ? reason : $"cuBLAS {products._blas!.Version}";
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A diagnostic line: whatever went wrong is the answer, and must not stop `gpuinfo devices`.
            return e is DeviceUnavailableException ? e.Message : $"cuBLAS did not start: {e.GetType().Name}: {e.Message}";
        }
    }

    public void Cross(ArrayView<float> p, int rows, ArrayView<float> logDecoder, int clusters, int vocab, ArrayView<double> cross)
    {
        var block = _arena.Get<float>("cross-block", (long)rows * clusters);
        cross.MemSetToZero();
        for (int b = 0; b < vocab; b += ConditionalIbProducts.VocabBlock)
        {
            int len = Math.Min(ConditionalIbProducts.VocabBlock, vocab - b);
            _gemm(CuBlasOperation.Transpose, CuBlasOperation.NonTranspose, clusters, rows, len,
                logDecoder.SubView(b), vocab, p.SubView(b), vocab, block, clusters);
            _widen((int)block.Length, block, cross);
        }
    }

    public void Accumulate(ArrayView<float> weights, ArrayView<float> p, int rows, int clusters, int vocab, ArrayView<double> numerator)
    {
        var product = _arena.Get<float>("numerator-chunk", (long)clusters * vocab);
        _gemm(CuBlasOperation.NonTranspose, CuBlasOperation.Transpose, vocab, clusters, rows,
            p, vocab, weights, clusters, product, vocab);
        _widen((int)product.Length, product, numerator);
    }

    public void Dispose()
    {
        _arena.Dispose();
        _blas?.Dispose();
    }
}
