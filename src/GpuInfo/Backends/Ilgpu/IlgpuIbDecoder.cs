using GpuInfo.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuInfo.Backends.Ilgpu;

/// <summary>
/// The IB decoder of a solve over rows on the device of <see cref="IlgpuConditionalIbProducts"/>:
/// the float64 numerator [clusters, Y] that the passes accumulate stays where they wrote it, and
/// <see cref="IbDecoderKernel"/> turns it into the float32 log q(y|t) the next pass reads and each
/// cluster's share of I(T;Y). An iteration moves q(t) up and one number per cluster down; with host
/// arrays it moved the numerator down (103 MB at 256 x 50257) and the log-decoder up (51 MB), and
/// the host made two passes over both. The numerator comes down only for the result.
/// </summary>
internal sealed class IlgpuIbDecoder : IbDecoder
{
    private readonly IlgpuConditionalIbProducts _products;
    private readonly IlgpuBackend _backend;
    private readonly DeviceArena _arena;
    private readonly int _y;
    private int _clusters;

    public IlgpuIbDecoder(IlgpuConditionalIbProducts products, IlgpuBackend backend, double[] py)
    {
        _products = products;
        _backend = backend;
        _y = py.Length;
        using (backend.Use())
        {
            _arena = new DeviceArena(backend.Accelerator);
            _arena.Get<double>("logPy", _y).CopyFromCPU(LogMarginal(py));
        }
    }

    public override double Update(double[] qt)
    {
        int t = _clusters;
        var terms = new double[t];
        using (_backend.Use())
        {
            var q = _arena.Get<double>("qt", t);
            q.CopyFromCPU(qt.AsSpan(0, t));
            var result = _arena.Get<double>("terms", t);
            var kernel = _backend.Kernels(a => new UpdateKernel(a, _backend.Plan.Specialization)).Run;
            kernel(new KernelConfig(t, _backend.GroupSize), Numerator(t), q, _arena.Get<double>("logPy", _y), LogDecoder(t), result, _y);
            result.CopyToCPU(terms);
        }

        double mi = 0;
        foreach (double term in terms)
        {
            mi += term;
        }

        return mi;
    }

    public override double[] Numerator()
    {
        var numerator = new double[(long)_clusters * _y];
        using (_backend.Use())
        {
            Numerator(_clusters).CopyToCPU(numerator);
        }

        return numerator;
    }

    public override void Dispose()
    {
        using (_backend.Use())
        {
            _arena.Dispose();
        }
    }

    protected override void RecomputeCore(double[] encoderTransposed, int clusters)
    {
        _clusters = clusters;
        int x = encoderTransposed.Length / clusters;
        _products.DevicePass(ArrayView<float>.Empty, clusters, null, (i, k) => encoderTransposed[((long)k * x) + i], Numerator(clusters));
    }

    protected override void StepCore(double[] encoder, int clusters, EncoderUpdate update) =>
        _products.DevicePass(LogDecoder(clusters), clusters, (first, rows, cross) => update(first, rows, cross, encoder), (i, k) => encoder[((long)i * clusters) + k], Numerator(clusters));

    private ArrayView<double> Numerator(int clusters) => _arena.Get<double>("numerator", (long)clusters * _y);

    private ArrayView<float> LogDecoder(int clusters) => _arena.Get<float>("logDecoder", (long)clusters * _y);

    private sealed class UpdateKernel(Accelerator a, KernelSpecialization specialization)
    {
        public Action<KernelConfig, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<float>, ArrayView<double>, int> Run { get; } =
            a.LoadStreamKernel<ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<float>, ArrayView<double>, int>(IbDecoderKernel.Update, specialization);
    }
}
