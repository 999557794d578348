using System.Runtime.CompilerServices;
using GpuInfo.Backends.Cpu.Blas;
using GpuInfo.Corpus;
using GpuInfo.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuInfo.Backends.Ilgpu;

/// <summary>
/// The IB products over <see cref="ConditionalRows"/> on an ILGPU accelerator: the fused pass of
/// <see cref="ConditionalIbProducts"/> with the rows' work on the device. Per chunk of rows (read a
/// chunk ahead by <see cref="ChunkPipeline"/>): the raw rows (fp32/fp16/bf16 as stored) go up, a
/// kernel turns them into float32 p(y|x) (<see cref="RowDistributionKernel"/>), the [rows, T] cross
/// terms against the resident float32 log-decoder come down, the solver's encoder update runs on the
/// host, the chunk's weights p(x)q(t|x) go up and its share of the decoder numerator is added into a
/// float64 [T, V] device buffer. In a solve that buffer and the log-decoder stay on the device
/// (<see cref="IlgpuIbDecoder"/>); the host-array calls of <see cref="RowPassProducts"/> copy them
/// across once per pass. Device memory is a few chunk-sized buffers plus two [T, V] ones; p(y|x) is
/// never whole anywhere. Where the raw rows fit the device's
/// budget (a quarter of its memory by default), the host's setup pass (below) also puts each chunk's
/// raw rows on the device, and every pass starts from them: the source is read once in all (a model
/// run once), and an iteration reads no file and copies no rows up,
/// which on a GPU would otherwise bound it by the host's read rate rather than the products. The products run on cuBLAS on CUDA
/// (<see cref="CuBlasChunkProducts"/>: its calls are tested without a GPU, cuBLAS itself not yet run) and on the tiled kernel elsewhere.
/// The setup pass (checking every row, p(y), H(Y|X), I(X;Y)) stays on the host
/// (<see cref="ConditionalIbProducts.Problem"/>): it runs once, and names a bad row exactly as the CPU path does.
/// </summary>
internal sealed class IlgpuConditionalIbProducts : RowPassProducts
{
    private readonly IlgpuBackend _backend;
    private readonly ConditionalRows _rows;
    private readonly double[] _px;
    private readonly IChunkProducts _products;
    private readonly DeviceArena _arena;
    private readonly CancellationToken _cancellation;
    private readonly int _x;
    private readonly int _y;
    private readonly int _chunkRows;
    private readonly bool _resident;
    private readonly List<(int First, int Rows)> _residentChunks = [];
    private readonly BlockBuffers _blockBuffers = new();
    private float[]? _decoder32;
    private double[]? _cross;
    private float[]? _weights;

    private IlgpuConditionalIbProducts(IlgpuBackend backend, ConditionalRows rows, double[] px, long chunkBytes, long residentBytes, Func<IlgpuBackend, IChunkProducts> chunkProducts, CancellationToken cancellation)
        : base(rows.Contexts)
    {
        _backend = backend;
        _rows = rows;
        _px = px;
        _cancellation = cancellation;
        _x = rows.Contexts;
        _y = rows.Vocab;
        _chunkRows = (int)Math.Clamp(chunkBytes / (4L * _y), 1, Math.Min(_x, Array.MaxLength / _y));
        _resident = KeepsResident(rows, residentBytes);
        using (backend.Use())
        {
            _products = chunkProducts(backend);
            _arena = new DeviceArena(backend.Accelerator);
        }
    }

    public override string Name => $"{_backend.Accelerator.AcceleratorType.ToString().ToLowerInvariant()}: {_backend.Accelerator.Name}, {_products.Name}"
        + (_resident ? ", rows resident" : string.Empty);

    /// <summary>Whether the raw rows fit <paramref name="residentBytes"/> of device memory, and so stay there after the first pass.</summary>
    public static bool KeepsResident(ConditionalRows rows, long residentBytes) => (long)rows.Contexts * rows.Source.RowBytes <= residentBytes;

    /// <summary>
    /// float32 distributions per device chunk: a 32nd of the device's memory, from 128 MiB to 1 GiB
    /// (5340 rows at vocab 50257 on a large GPU). The cross-term products are [chunk rows, 4096] x
    /// [4096, clusters]: at 667 rows (128 MiB) and 256 clusters a GPU would have ~10 output tiles of
    /// 128 x 128 for its 132 SMs, and each chunk is a round trip to the host's encoder update. The
    /// host keeps two chunks of raw rows for the reader.
    /// </summary>
    public static long DefaultChunkBytes(long deviceMemoryBytes) => Math.Clamp(deviceMemoryBytes / 32, 128L << 20, 1L << 30);

    /// <summary>False on OpenCL devices without float64 (the kernels sum in float64): the rows then run on the CPU.</summary>
    public static bool Supports(IlgpuBackend backend) =>
        backend.Accelerator.Capabilities is not ILGPU.Runtime.OpenCL.CLCapabilityContext { Float64: false };

    /// <summary>
    /// Reads the rows once on the host (checks, marginals, I(X;Y)); the products then run on
    /// <paramref name="backend"/>. Where the raw rows stay resident, that read also puts them on the
    /// device, so the source is read once in all (a model run once).
    /// </summary>
    /// <exception cref="RowSourceException">A row is no distribution, or a read failed.</exception>
    /// <param name="hostChunkBytes">float32 distributions per chunk of the host's checking pass.</param>
    /// <param name="deviceChunkBytes">float32 distributions per chunk on the device.</param>
    /// <param name="residentBytes">Raw rows up to this size stay on the device from the host's read on (later passes read no file and copy nothing up).</param>
    /// <param name="chunkProducts">The products on <paramref name="backend"/>: <see cref="CuBlasChunkProducts.OrTiled"/>, or the tiled kernel alone.</param>
    public static IbProblem Problem(IlgpuBackend backend, ConditionalRows rows, Sgemm sgemm, int workers, long hostChunkBytes, long deviceChunkBytes, long residentBytes,
        Func<IlgpuBackend, IChunkProducts> chunkProducts, CancellationToken cancellation)
    {
        var products = new IlgpuConditionalIbProducts(backend, rows, rows.ContextMarginal(), deviceChunkBytes, residentBytes, chunkProducts, cancellation);
        try
        {
            using var host = ConditionalIbProducts.Problem(rows, sgemm, workers, hostChunkBytes, residentBytes: 0, cancellation, products._resident ? products.Keep : null);
            if (products._resident && products._residentChunks.Sum(c => (long)c.Rows) != products._x)
            {
                throw new InvalidOperationException($"the setup read kept {products._residentChunks.Sum(c => (long)c.Rows)} of {products._x} rows on the device.");
            }
            return new IbProblem(host.Px, host.Py, host.NegativeConditionalEntropies, host.IxyBits, products);
        }
        catch
        {
            products.Dispose();
            throw;
        }
    }

    public override void Dispose()
    {
        using (_backend.Use())
        {
            _arena.Dispose();
            _products.Dispose();
        }
    }

    /// <summary>A solve's decoder stays on the device: an iteration then moves q(t) up and a number per cluster down, not two [clusters, Y] arrays.</summary>
    public override IbDecoder CreateDecoder(double[] py) => new IlgpuIbDecoder(this, _backend, py);

    /// <summary>One read of the rows with a host log-decoder and numerator: each copied across once per call.</summary>
    protected override void Pass(double[]? logDecoder, int clusters, Action<int, int, double[]>? onCross, Func<int, int, double>? weights, double[]? numerator)
    {
        using (_backend.Use())
        {
            var decoder = ArrayView<float>.Empty;
            if (logDecoder is not null)
            {
                decoder = _arena.Get<float>("decoder", logDecoder.Length);
                decoder.CopyFromCPU(ConditionalIbProducts.ToFloat32(logDecoder, ref _decoder32));
            }

            var total = numerator is null ? ArrayView<double>.Empty : _arena.Get<double>("numerator", (long)clusters * _y);
            DevicePass(decoder, clusters, onCross, weights, total);
            if (numerator is not null)
            {
                total.CopyToCPU(numerator.AsSpan());
            }
        }
    }

    /// <summary>
    /// One read of the rows against device buffers: with <paramref name="onCross"/>, the cross terms
    /// of the float32 log-decoder <paramref name="decoder"/> ([clusters, Y]) for each chunk; with
    /// <paramref name="weights"/>, Σ_x p(x)·weights(x, t)·p(y|x) into <paramref name="total"/>
    /// ([clusters, Y], overwritten).
    /// </summary>
    internal void DevicePass(ArrayView<float> decoder, int clusters, Action<int, int, double[]>? onCross, Func<int, int, double>? weights, ArrayView<double> total)
    {
        var cross = ConditionalIbProducts.Reuse(ref _cross, (long)_chunkRows * clusters);
        var w = ConditionalIbProducts.Reuse(ref _weights, (long)_chunkRows * clusters);
        using (_backend.Use())
        {
            if (weights is not null)
            {
                total.MemSetToZero();
            }

            void Products(int first, int rows, ArrayView<float> p)
            {
                int count = rows * clusters;
                if (onCross is not null)
                {
                    var chunkCross = _arena.Get<double>("cross", count);
                    _products.Cross(p, rows, decoder, clusters, _y, chunkCross);
                    chunkCross.CopyToCPU(cross.AsSpan(0, count));
                    onCross(first, rows, cross);
                }

                if (weights is not null)
                {
                    RowBlocks.For(rows, (start, n) =>
                    {
                        for (int r = start; r < start + n; r++)
                        {
                            for (int k = 0; k < clusters; k++)
                            {
                                w[r * clusters + k] = (float)(_px[first + r] * weights!(first + r, k));
                            }
                        }
                    });

                    var chunkWeights = _arena.Get<float>("weights", count);
                    chunkWeights.CopyFromCPU(w.AsSpan(0, count));

                    // float32 sums over at most NumeratorRows rows, each slice added in float64, as on the CPU.
                    for (int r = 0; r < rows; r += ConditionalIbProducts.NumeratorRows)
                    {
                        int n = Math.Min(ConditionalIbProducts.NumeratorRows, rows - r);
                        _products.Accumulate(chunkWeights.SubView((long)r * clusters, (long)n * clusters), p.SubView((long)r * _y, (long)n * _y), n, clusters, _y, total);
                    }
                }
            }

            if (_resident)
            {
                for (int i = 0; i < _residentChunks.Count; i++)
                {
                    _cancellation.ThrowIfCancellationRequested();
                    var (first, rows) = _residentChunks[i];
                    Products(first, rows, Distributions(ResidentName(i), rows));
                }
            }
            else
            {
                using var pipeline = new ChunkPipeline([_rows.Source], 0, _x, (long)_chunkRows * _rows.Source.RowBytes, 1, _cancellation, _blockBuffers);
                while (pipeline.Take() is { } set)
                {
                    int first = (int)set[0].FirstRow, rows = set[0].Rows;
                    ArrayView<float> p;
                    try
                    {
                        p = Distributions(set[0], "rows");
                    }
                    finally
                    {
                        pipeline.Return(set);
                    }

                    Products(first, rows, p);
                }
            }
        }
    }

    private static string ResidentName(int chunk) => $"rows{chunk}";

    /// <summary>Puts a block's raw rows on the device as resident chunks of at most a device chunk each (the host's read of the rows).</summary>
    private unsafe void Keep(RowBlock block)
    {
        using (_backend.Use())
        {
            var stream = _backend.Accelerator.DefaultStream;
            var logits = block.Logits;
            fixed (byte* start = &Unsafe.AsRef(in logits.Start))
            {
                var view = logits.Pin(start);
                for (long done = 0; done < view.Rows; done += _chunkRows)
                {
                    long rows = Math.Min(_chunkRows, view.Rows - done);
                    nint host = view.Data + (nint)(done * view.RowBytes);
                    string buffer = ResidentName(_residentChunks.Count);
                    _ = view.Type switch
                    {
                        ScalarType.Float32 => _arena.Upload<float>(buffer, stream, host, rows * _y).Length,
                        ScalarType.Float16 => _arena.Upload<ILGPU.Half>(buffer, stream, host, rows * _y).Length,
                        _ => _arena.Upload<ushort>(buffer, stream, host, rows * _y).Length,
                    };
                    _residentChunks.Add(((int)(block.FirstRow + done), (int)rows));
                }
            }

            // The block returns to the reader once this method does.
            stream.Synchronize();
        }
    }

    /// <summary>Uploads a block's raw rows into the named buffer and launches the kernel that turns them into float32 p(y|x) on the device.</summary>
    private unsafe ArrayView<float> Distributions(RowBlock block, string buffer)
    {
        var logits = block.Logits;
        fixed (byte* start = &Unsafe.AsRef(in logits.Start))
        {
            var view = logits.Pin(start);
            return view.Type switch
            {
                ScalarType.Float32 => Distributions<float, Float32Loader>(buffer, view.Rows, view.Data),
                ScalarType.Float16 => Distributions<ILGPU.Half, Float16Loader>(buffer, view.Rows, view.Data),
                _ => Distributions<ushort, BFloat16Loader>(buffer, view.Rows, view.Data),
            };
        }
    }

    /// <summary>As above, from raw rows already resident in the named buffer.</summary>
    private ArrayView<float> Distributions(string buffer, int rows) => _rows.Source.Type switch
    {
        ScalarType.Float32 => Distributions<float, Float32Loader>(buffer, rows, 0),
        ScalarType.Float16 => Distributions<ILGPU.Half, Float16Loader>(buffer, rows, 0),
        _ => Distributions<ushort, BFloat16Loader>(buffer, rows, 0),
    };

    /// <param name="host">The raw rows to upload, or 0 when they are resident in <paramref name="buffer"/>.</param>
    private ArrayView<float> Distributions<T, TLoad>(string buffer, long rows, nint host)
        where T : unmanaged
        where TLoad : struct, ILogitLoader<T>
    {
        var stream = _backend.Accelerator.DefaultStream;
        ArrayView<T> raw;
        if (host != 0)
        {
            raw = _arena.Upload<T>(buffer, stream, host, rows * _y);

            // The block returns to the reader once this method does.
            stream.Synchronize();
        }
        else
        {
            raw = _arena.Get<T>(buffer, rows * _y);
        }

        var p = _arena.Get<float>("p", rows * _y);
        var kernel = _backend.Kernels(a => new RowKernel<T, TLoad>(a, _backend.Plan.Specialization)).Run;
        kernel(new KernelConfig((int)rows, _backend.GroupSize), raw, p, _y, (float)(1 / _rows.Temperature), _rows.Probabilities ? 1 : 0);
        return p;
    }

    private sealed class RowKernel<T, TLoad>(Accelerator a, KernelSpecialization specialization)
        where T : unmanaged
        where TLoad : struct, ILogitLoader<T>
    {
        public Action<KernelConfig, ArrayView<T>, ArrayView<float>, int, float, int> Run { get; } =
            a.LoadStreamKernel<ArrayView<T>, ArrayView<float>, int, float, int>(RowDistributionKernel.Run<T, TLoad>, specialization);
    }
}
