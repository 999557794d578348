using GpuInfo.Backends.Ilgpu;

namespace GpuInfo;

public sealed partial class InfoEngine
{
    /// <summary>
    /// Solves the Information Bottleneck (IB, generalized IB or deterministic IB by
    /// <see cref="IbOptions.Alpha"/>) for a joint p(x,y); the two matrix products of each iteration run
    /// on this engine's device (float32 kernels on accelerators, float64 SIMD on the CPU path).
    /// </summary>
    /// <exception cref="ArgumentException">Bad options.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (checked every iteration).</exception>
    /// <exception cref="ObjectDisposedException">The engine was disposed, before or during the solve.</exception>
    public IbResult InformationBottleneck(JointDistribution joint, IbOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(joint);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(joint.X);
        using var lease = Use();
        using var products = IbProducts(joint, cancellationToken);
        return GpuInfo.InformationBottleneck.Solve(joint, options, products);
    }

    /// <summary>
    /// An IB curve over <paramref name="betas"/>: solved from high β to low with warm starts (and
    /// restarts), reporting I(X;T), I(T;Y), H(T) per β and where the number of clusters changes.
    /// </summary>
    /// <exception cref="OperationCanceledException">Cancelled (checked every iteration).</exception>
    /// <exception cref="ObjectDisposedException">The engine was disposed, before or during the sweep.</exception>
    public IbCurve InformationCurve(JointDistribution joint, IReadOnlyList<double> betas, IbOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(joint);
        ArgumentNullException.ThrowIfNull(betas);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(joint.X);
        if (betas.Count == 0 || betas.Any(b => !(b >= 0) || double.IsInfinity(b)))
        {
            Guard.Throw(nameof(betas), "betas must be a non-empty list of finite values >= 0.");
        }

        using var lease = Use();
        using var products = IbProducts(joint, cancellationToken);
        return IbSweep.Run(joint, options, betas, products);
    }

    /// <summary>Channel capacity by Blahut-Arimoto (see <see cref="BlahutArimoto.Capacity"/>).</summary>
    public CapacityResult ChannelCapacity(double[,] channel) => BlahutArimoto.Capacity(channel);

    /// <summary>A rate-distortion point by Blahut-Arimoto (see <see cref="BlahutArimoto.RateDistortion"/>).</summary>
    public RateDistortionResult RateDistortion(double[] source, double[,] distortion, double beta) =>
        BlahutArimoto.RateDistortion(source, distortion, beta);

    private IIbProducts IbProducts(JointDistribution joint, CancellationToken cancellationToken)
    {
        IIbProducts products = _backend is IlgpuBackend gpu
            ? new IlgpuIbProducts(gpu, joint)
            : new CpuIbProducts(joint, (_backend as Backends.Cpu.SimdCpuBackend)?.Workers ?? 0);
        return new CheckedIbProducts(products, this, cancellationToken);
    }

    /// <summary>Checks for cancellation and disposal before each product, i.e. every IB iteration.</summary>
    private sealed class CheckedIbProducts(IIbProducts inner, InfoEngine engine, CancellationToken cancellationToken) : IIbProducts
    {
        public void CrossTerms(double[] logDecoder, int clusters, double[] cross)
        {
            Check();
            inner.CrossTerms(logDecoder, clusters, cross);
        }

        public void DecoderNumerator(double[] encoderTransposed, int clusters, double[] numerator)
        {
            Check();
            inner.DecoderNumerator(encoderTransposed, clusters, numerator);
        }

        public void Dispose() => inner.Dispose();

        private void Check()
        {
            cancellationToken.ThrowIfCancellationRequested();
            engine.ThrowIfDisposed();
        }
    }
}
