using GpuInfo.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuInfo.Backends.Ilgpu;

/// <summary>
/// <see cref="IChunkProducts"/> by <see cref="MatrixProductKernel"/>: square tiles whose side comes
/// from the accelerator (4 on ILGPU's CPU accelerator, 16 on GPUs), vocabulary blocks of
/// <see cref="ConditionalIbProducts.VocabBlock"/> columns (rounded down to whole tiles) for the cross terms.
/// </summary>
internal sealed class TiledChunkProducts : IChunkProducts
{
    private readonly int _tile;
    private readonly Kernels _kernels;

    private readonly string _whyNotCuBlas;

    /// <param name="whyNotCuBlas">Why cuBLAS is not used on a CUDA device (shown in <see cref="Name"/>), else empty.</param>
    public TiledChunkProducts(IlgpuBackend backend, string whyNotCuBlas = "")
    {
        _whyNotCuBlas = whyNotCuBlas;
        _tile = Math.Clamp((int)Math.Sqrt(backend.Accelerator.MaxNumThreadsPerGroup), 1, 16);
        _kernels = backend.Kernels(a => new Kernels(a));
        MaxGridRows = backend.Accelerator.MaxGridSize.Y;
    }

    /// <summary>
    /// The most groups a launch may have along y (the device's limit: 65535 on CUDA). The cross terms
    /// put a chunk's rows there, so chunks of over 65535 tiles of rows (over ~1M rows of a vocabulary
    /// under 256) run in several launches. Tests make it small.
    /// </summary>
    internal int MaxGridRows { get; set; }

    public string Name => _whyNotCuBlas.Length == 0 ? "float32 tiled kernel" : $"float32 tiled kernel ({_whyNotCuBlas})";

    public void Cross(ArrayView<float> p, int rows, ArrayView<float> logDecoder, int clusters, int vocab, ArrayView<double> cross)
    {
        int block = (int)Math.Min(rows, (long)MaxGridRows * _tile);
        for (int first = 0; first < rows; first += block)
        {
            int count = Math.Min(block, rows - first);
            _kernels.Cross(Config(count, clusters), p.SubView((long)first * vocab, (long)count * vocab), logDecoder,
                cross.SubView((long)first * clusters, (long)count * clusters), count, clusters, vocab, ConditionalIbProducts.VocabBlock / _tile * _tile);
        }
    }

    public void Accumulate(ArrayView<float> weights, ArrayView<float> p, int rows, int clusters, int vocab, ArrayView<double> numerator) =>
        _kernels.Accumulate(Config(clusters, vocab), weights, p, numerator, clusters, vocab, rows);

    public void Dispose()
    {
    }

    /// <summary>The grid of an [m, n] output.</summary>
    private KernelConfig Config(int m, int n) => new(
        new Index2D((n + _tile - 1) / _tile, (m + _tile - 1) / _tile),
        new Index2D(_tile, _tile),
        SharedMemoryConfig.RequestDynamic<float>(2 * _tile * _tile));

    private sealed class Kernels(Accelerator a)
    {
        public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<double>, int, int, int, int> Cross { get; } =
            a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<double>, int, int, int, int>(MatrixProductKernel.MultiplyTransposedBlocked);

        public Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<double>, int, int, int> Accumulate { get; } =
            a.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<double>, int, int, int>(MatrixProductKernel.AccumulateTransposedLeft);
    }
}
