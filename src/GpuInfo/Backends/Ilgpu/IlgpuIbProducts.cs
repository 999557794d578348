using GpuInfo.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuInfo.Backends.Ilgpu;

/// <summary>
/// IB products on an ILGPU accelerator in float32 (<see cref="MatrixProductKernel"/>): p(y|x) and
/// p(x,y)ᵀ are uploaded once and stay resident; each call moves only the small [T, Y] or [T, X]
/// operand and the result. float32 sums over Y carry ~1e-6 relative error, so large-β solves on a
/// device differ from the float64 CPU path at that level.
/// </summary>
internal sealed class IlgpuIbProducts : IIbProducts
{
    private readonly IlgpuBackend _backend;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _pyx;
    private readonly MemoryBuffer1D<float, Stride1D.Dense> _pxyT;
    private readonly DeviceArena _arena;
    private readonly Action<KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<double>, int, int, int, int> _kernel;
    private readonly int _tile;
    private readonly int _x;
    private readonly int _y;
    private float[] _upload = [];

    public IlgpuIbProducts(IlgpuBackend backend, JointDistribution joint)
    {
        _backend = backend;
        var accelerator = backend.Accelerator;
        _x = joint.X;
        _y = joint.Y;
        var pyx = new float[(long)_x * _y];
        var pxyT = new float[(long)_y * _x];
        for (int i = 0; i < _x; i++)
        {
            for (int j = 0; j < _y; j++)
            {
                double p = joint.P[i * _y + j];
                pyx[(long)i * _y + j] = joint.Px[i] > 0 ? (float)(p / joint.Px[i]) : 0f;
                pxyT[(long)j * _x + i] = (float)p;
            }
        }

        // Under the backend's gate (its context current here, and no other caller's work in between).
        using (backend.Use())
        {
            _pyx = accelerator.Allocate1D(pyx);
            _pxyT = accelerator.Allocate1D(pxyT);
            _arena = new DeviceArena(accelerator);
            _tile = Math.Clamp((int)Math.Sqrt(accelerator.MaxNumThreadsPerGroup), 1, 16);
            MaxGridRows = accelerator.MaxGridSize.Y;
            _kernel = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<double>, int, int, int, int>(MatrixProductKernel.MultiplyTransposedBlocked);
        }
    }

    public string Name => $"{_backend.Accelerator.AcceleratorType.ToString().ToLowerInvariant()}: {_backend.Accelerator.Name}, float32 tiled kernel";

    /// <summary>
    /// The most groups a launch may have along y (65535 on CUDA), where a product's output rows go:
    /// the cross terms of a joint of over 65535 tiles of x (~1M) run in several launches. Tests make it small.
    /// </summary>
    internal int MaxGridRows { get; set; }

    public void CrossTerms(double[] logDecoder, int clusters, double[] cross) =>
        Multiply(_pyx.View, _x, logDecoder, clusters, _y, cross, operandIsA: false);

    public void DecoderNumerator(double[] encoderTransposed, int clusters, double[] numerator) =>
        Multiply(_pxyT.View, _y, encoderTransposed, clusters, _x, numerator, operandIsA: true);

    public void Dispose()
    {
        // cuMemFree needs the context current on this thread; ILGPU 1.5.3 does not bind it to free.
        using (_backend.Use())
        {
            _arena.Dispose();
            _pyx.Dispose();
            _pxyT.Dispose();
        }
    }

    /// <summary>resident [rows, k] with operand [clusters, k]: operandIsA gives operand·residentᵀ, else resident·operandᵀ.</summary>
    private void Multiply(ArrayView<float> resident, int rows, double[] operand, int clusters, int k, double[] result, bool operandIsA)
    {
        long count = (long)clusters * k;
        if (_upload.Length < count)
        {
            _upload = new float[count];
        }

        for (long i = 0; i < count; i++)
        {
            _upload[i] = (float)Math.Max(operand[i], -1e30);
        }

        using (_backend.Use())
        {
            Launch(resident, rows, count, clusters, k, result, operandIsA);
        }
    }

    private void Launch(ArrayView<float> resident, int rows, long count, int clusters, int k, double[] result, bool operandIsA)
    {
        var small = _arena.Get<float>("operand", count);
        small.CopyFromCPU(_upload.AsSpan(0, (int)count));
        var output = _arena.Get<double>("result", (long)rows * clusters);
        var (a, m, b, n) = operandIsA ? (small, clusters, resident, rows) : (resident, rows, small, clusters);
        int block = (int)Math.Min(m, (long)MaxGridRows * _tile);
        for (int first = 0; first < m; first += block)
        {
            int part = Math.Min(block, m - first);
            var config = new KernelConfig(
                new Index2D((n + _tile - 1) / _tile, (part + _tile - 1) / _tile),
                new Index2D(_tile, _tile),
                SharedMemoryConfig.RequestDynamic<float>(2 * _tile * _tile));
            // One block spanning all of k: a float32 sum over k, as the dense products always had.
            _kernel(config, a.SubView((long)first * k, (long)part * k), b, output.SubView((long)first * n, (long)part * n), part, n, k, (k + _tile - 1) / _tile * _tile);
        }

        output.CopyToCPU(result.AsSpan(0, m * n));
    }
}
