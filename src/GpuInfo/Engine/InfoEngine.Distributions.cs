using GpuInfo.Backends.Ilgpu;

namespace GpuInfo;

public sealed partial class InfoEngine
{
    /// <summary>
    /// Solves the Information Bottleneck (IB, generalized IB or deterministic IB by
    /// <see cref="IbOptions.Alpha"/>) for a joint p(x,y); the two matrix products of each iteration run
    /// on this engine's device (float32 kernels on accelerators, float64 on the CPU path: the system BLAS's dgemm where one loads, else managed SIMD).
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
        using var problem = IbProblem.FromJoint(joint, IbProducts(joint, cancellationToken));
        return GpuInfo.InformationBottleneck.Solve(problem, options);
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
        using var problem = IbProblem.FromJoint(joint, IbProducts(joint, cancellationToken));
        return IbSweep.Run(problem, options, betas);
    }

    /// <summary>
    /// The Information Bottleneck over rows of model outputs: which contexts x does the model treat
    /// alike, with p(y|x) the softmax of each row. Each iteration is one pass over the rows, chunk by
    /// chunk (one read and one softmax per row; float32 products, float64 totals), so memory stays at a
    /// few chunks plus the [clusters, vocab] decoder whatever the number of rows. The rows are read
    /// once more before the first iteration to check them and compute p(y), H(Y|X) and I(X;Y).
    /// The products run on this engine's device: on an ILGPU accelerator each chunk's softmax and both
    /// products run there (cuBLAS on CUDA, a tiled kernel elsewhere), on the CPU a system BLAS when one
    /// loads; <see cref="IbResult.Products"/> says which. The checking pass runs on the CPU.
    /// </summary>
    /// <exception cref="ArgumentException">Bad options, or clusters × contexts too large for the encoder.</exception>
    /// <exception cref="Corpus.RowSourceException">A row is no distribution (named), or a read failed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (checked every chunk).</exception>
    public IbResult InformationBottleneck(ConditionalRows rows, IbOptions options, IProgress<IbIteration>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(rows.Contexts);
        CheckEncoderSize(rows, options);
        using var lease = Use();
        using var problem = RowsProblem(rows, cancellationToken);
        return GpuInfo.InformationBottleneck.Solve(problem, options, progress: progress);
    }

    /// <summary>
    /// An IB curve over rows of model outputs (see <see cref="InformationBottleneck(ConditionalRows, IbOptions, IProgress{IbIteration}, CancellationToken)"/>):
    /// β from high to low, each solve warm-started from the previous encoder, with the transitions.
    /// </summary>
    /// <exception cref="ArgumentException">Bad options or betas.</exception>
    /// <exception cref="Corpus.RowSourceException">A row is no distribution (named), or a read failed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (checked every chunk).</exception>
    public IbCurve InformationCurve(ConditionalRows rows, IReadOnlyList<double> betas, IbOptions options, IProgress<IbIteration>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(betas);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate(rows.Contexts);
        CheckEncoderSize(rows, options);
        if (betas.Count == 0 || betas.Any(b => !(b >= 0) || double.IsInfinity(b)))
        {
            Guard.Throw(nameof(betas), "betas must be a non-empty list of finite values >= 0.");
        }

        using var lease = Use();
        using var problem = RowsProblem(rows, cancellationToken);
        return IbSweep.Run(problem, options, betas, progress);
    }

    /// <summary>
    /// Channel capacity by Blahut-Arimoto (see <see cref="BlahutArimoto.Capacity(double[,], double, int)"/>),
    /// each iteration's pass over W on this engine's device: on an ILGPU accelerator W is uploaded once
    /// (float64) and each iteration runs a row-dot and a weighted-column-sum kernel there, on the CPU
    /// the fused SIMD pass; <see cref="CapacityResult.Products"/> says which.
    /// </summary>
    /// <exception cref="InvalidInputException">A row has a negative or non-finite entry, or does not sum to 1.</exception>
    /// <exception cref="DeviceUnavailableException">W does not fit the device's memory, or the device failed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (checked every iteration).</exception>
    /// <exception cref="ObjectDisposedException">The engine was disposed, before or during the solve.</exception>
    public CapacityResult ChannelCapacity(double[,] channel, double tolerance = 1e-12, int maxIterations = 1_000_000, CancellationToken cancellationToken = default)
    {
        using var lease = Use();
        CapacityResult result = null!;
        RunOnDevice(() => result = BlahutArimoto.Capacity(channel, tolerance, maxIterations, BlahutArimotoPasses, Checker(cancellationToken)));
        return result;
    }

    /// <summary>
    /// A rate-distortion point by Blahut-Arimoto (see <see cref="BlahutArimoto.RateDistortion(double[], double[,], double, double, int)"/>),
    /// each iteration's pass over e^(-β(d - shift)) and d on this engine's device (both uploaded once on
    /// an ILGPU accelerator, float64); <see cref="RateDistortionResult.Products"/> says where.
    /// </summary>
    /// <exception cref="InvalidInputException">Negative or non-finite source or distortion entries.</exception>
    /// <exception cref="DeviceUnavailableException">The matrices do not fit the device's memory, or the device failed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled (checked every iteration).</exception>
    /// <exception cref="ObjectDisposedException">The engine was disposed, before or during the solve.</exception>
    public RateDistortionResult RateDistortion(double[] source, double[,] distortion, double beta,
        double tolerance = BlahutArimoto.DefaultRateTolerance, int maxIterations = 1_000_000, CancellationToken cancellationToken = default)
    {
        using var lease = Use();
        RateDistortionResult result = null!;
        RunOnDevice(() => result = BlahutArimoto.RateDistortion(source, distortion, beta, tolerance, maxIterations, BlahutArimotoPasses, Checker(cancellationToken)));
        return result;
    }

    /// <summary>Device bytes a Blahut-Arimoto pass may use; null: the accelerator's memory (tests make it small).</summary>
    internal long? BlahutArimotoDeviceBytes { get; set; }

    private IBlahutArimotoPass BlahutArimotoPasses(double[,] matrix, double[,]? second, bool[]? skipped) =>
        _backend is IlgpuBackend gpu
            ? new IlgpuBlahutArimotoPass(gpu, matrix, second, skipped, BlahutArimotoDeviceBytes)
            : IBlahutArimotoPass.Cpu(matrix, second, skipped);

    private Action Checker(CancellationToken cancellationToken) => () =>
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfDisposed();
    };

    /// <summary>Bytes of float32 distributions per chunk of an IB over rows on the CPU; null: <see cref="ConditionalIbProducts"/> picks (tests make it small to cross chunk edges).</summary>
    internal long? IbChunkBytes { get; set; }

    /// <summary>
    /// Bytes of float32 distributions per chunk of an IB over rows on an ILGPU accelerator; null:
    /// <see cref="IlgpuConditionalIbProducts.DefaultChunkBytes"/> (tests make it small to cross chunk edges).
    /// </summary>
    internal long? IbDeviceChunkBytes { get; set; }

    /// <summary>Rows (CPU: their distributions) up to this many bytes stay resident across an IB's passes (<see cref="InfoEngineOptions.IbResidentBytes"/>; tests change it).</summary>
    internal long? IbResidentBytes { get; set; }

    /// <summary>Use the managed products even where a system BLAS loads, and the tiled kernel even where cuBLAS loads (tests cover both).</summary>
    internal bool IbManagedProducts { get; set; }

    private static void CheckEncoderSize(ConditionalRows rows, IbOptions options)
    {
        long clusters = options.Clusters ?? rows.Contexts;
        if (clusters * rows.Contexts > Array.MaxLength || clusters * rows.Vocab > Array.MaxLength)
        {
            Guard.Throw(nameof(options), $"{clusters} clusters of {rows.Contexts} contexts and vocab {rows.Vocab}: the encoder or decoder would exceed {Array.MaxLength} entries; ask for fewer clusters.");
        }
    }

    /// <summary>
    /// Whether an IB over <paramref name="rows"/> on this engine keeps them resident after the first
    /// pass (see <see cref="InfoEngineOptions.IbResidentBytes"/>); when not, every iteration reads
    /// the source again (for a model, runs it again).
    /// </summary>
    internal bool IbKeepsRowsResident(ConditionalRows rows) => _backend is IlgpuBackend gpu && IlgpuConditionalIbProducts.Supports(gpu)
        ? IlgpuConditionalIbProducts.KeepsResident(rows, DeviceResidentBytes(gpu))
        : ConditionalIbProducts.KeepsResident(rows, HostResidentBytes);

    private long HostResidentBytes => IbResidentBytes ?? InfoEngineOptions.DefaultHostResidentBytes;

    private long DeviceResidentBytes(IlgpuBackend gpu) => IbResidentBytes ?? gpu.Accelerator.MemorySize / 4;

    private IbProblem RowsProblem(ConditionalRows rows, CancellationToken cancellationToken)
    {
        int workers = (_backend as Backends.Cpu.SimdCpuBackend)?.Workers ?? Environment.ProcessorCount;
        var sgemm = Backends.Cpu.Blas.Sgemm.Create(workers, IbManagedProducts);
        var problem = _backend is IlgpuBackend gpu && IlgpuConditionalIbProducts.Supports(gpu)
            ? IlgpuConditionalIbProducts.Problem(gpu, rows, sgemm, workers, IbChunkBytes ?? ConditionalIbProducts.StreamedChunkBytes,
                IbDeviceChunkBytes ?? IlgpuConditionalIbProducts.DefaultChunkBytes(gpu.Accelerator.MemorySize),
                DeviceResidentBytes(gpu), IbManagedProducts ? b => new Backends.Ilgpu.TiledChunkProducts(b) : Backends.Ilgpu.CuBlasChunkProducts.OrTiled, cancellationToken)
            : ConditionalIbProducts.Problem(rows, sgemm, workers, IbChunkBytes, HostResidentBytes, cancellationToken);
        return new IbProblem(problem.Px, problem.Py, problem.NegativeConditionalEntropies, problem.IxyBits, new CheckedIbProducts(problem.Products, this, cancellationToken));
    }

    private IIbProducts IbProducts(JointDistribution joint, CancellationToken cancellationToken)
    {
        IIbProducts products = _backend is IlgpuBackend gpu
            ? new IlgpuIbProducts(gpu, joint)
            : new CpuIbProducts(joint, (_backend as Backends.Cpu.SimdCpuBackend)?.Workers ?? 0, IbManagedProducts);
        return new CheckedIbProducts(products, this, cancellationToken);
    }

    /// <summary>Checks for cancellation and disposal before each product, i.e. every IB iteration.</summary>
    private sealed class CheckedIbProducts(IIbProducts inner, InfoEngine engine, CancellationToken cancellationToken) : IIbProducts
    {
        public string Name => inner.Name;

        public double EncoderTolerance => inner.EncoderTolerance;

        public double ObjectiveTolerance => inner.ObjectiveTolerance;

        public double DecoderTolerance => inner.DecoderTolerance;

        /// <summary>The inner products' decoder (host arrays or device buffers), checking before each of its products.</summary>
        public IbDecoder CreateDecoder(double[] py)
        {
            var decoder = inner.CreateDecoder(py);
            decoder.BeforeProduct = Check;
            return decoder;
        }

        public void Step(double[] logDecoder, int clusters, double[] encoder, EncoderUpdate update, double[] numerator)
        {
            Check();
            inner.Step(logDecoder, clusters, encoder, update, numerator);
        }

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
