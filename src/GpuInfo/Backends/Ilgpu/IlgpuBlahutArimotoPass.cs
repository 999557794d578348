using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using GpuInfo.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuInfo.Backends.Ilgpu;

/// <summary>
/// A Blahut-Arimoto pass on an ILGPU accelerator (<see cref="BlahutArimotoKernel"/>): the float64
/// matrix (and for rate-distortion the distortion beside it) is uploaded once and stays resident; an
/// iteration uploads the vector (columns values), runs the row-dot kernel (one group per row), brings
/// the rows' dots down, computes the rows' weights on the host (the exps and logs), uploads them, and
/// runs the weighted column sums (row chunks in order, then the chunks in order); the sums come down.
/// Bytes read on the device an iteration: 8·rows·columns per resident matrix for the dots, 8·rows·columns
/// for the column sums (of the first matrix only), plus the vectors.
/// </summary>
internal sealed class IlgpuBlahutArimotoPass : IBlahutArimotoPass
{
    /// <summary>Elements copied to the device per call (a span holds at most 2^31 - 1).</summary>
    private const int UploadElements = 1 << 26;

    /// <summary>Entries of a row per thread below which the row-dot groups get narrower.</summary>
    private const int RowEntriesPerThread = 8;

    private readonly IlgpuBackend _backend;
    private readonly DeviceArena _arena;
    private readonly bool[]? _skipped;
    private readonly int _rows;
    private readonly int _columns;
    private readonly bool _weighted;
    private readonly int _groupSize;
    private readonly int _chunks;
    private readonly int _chunkRows;
    private readonly double[] _dots;
    private readonly double[] _weightedDots;
    private readonly double[] _weights;

    /// <exception cref="DeviceUnavailableException">The matrices and vectors do not fit <paramref name="memoryBytes"/> (default: the accelerator's memory).</exception>
    public IlgpuBlahutArimotoPass(IlgpuBackend backend, double[,] matrix, double[,]? second, bool[]? skipped, long? memoryBytes = null)
    {
        _backend = backend;
        _skipped = skipped;
        _rows = matrix.GetLength(0);
        _columns = matrix.GetLength(1);
        _weighted = second is not null;
        var plan = backend.Plan;
        int warp = Math.Max(1, plan.Shape.WarpSize);

        // A group per row: at most the plan's, and no wider than 8 entries a thread need (whole warps):
        // a short row leaves no threads idle through the reduction's barriers.
        int wanted = (_columns + RowEntriesPerThread - 1) / RowEntriesPerThread;
        _groupSize = Math.Min(plan.GroupSize, Math.Max(warp, (wanted + warp - 1) / warp * warp));
        (_chunks, _chunkRows) = ColumnChunks(plan, _rows, _columns);
        long bytes = RequiredBytes(_rows, _columns, _weighted, _chunks);
        long memory = memoryBytes ?? backend.Accelerator.MemorySize;
        if (bytes > memory)
        {
            throw new DeviceUnavailableException(
                $"{backend.Accelerator.Name}: Blahut-Arimoto on a [{_rows}, {_columns}] matrix needs {bytes:N0} bytes of device memory ({(_weighted ? "two resident float64 matrices" : "a resident float64 matrix")} and vectors); the device has {memory:N0}. Use --device cpu.");
        }

        _dots = new double[_rows];
        _weightedDots = new double[_weighted ? _rows : 0];
        _weights = new double[_rows];
        using (backend.Use())
        {
            _arena = new DeviceArena(backend.Accelerator);
            Upload(_arena.Get<double>("matrix", (long)_rows * _columns), matrix);
            if (second is not null)
            {
                Upload(_arena.Get<double>("second", (long)_rows * _columns), second);
            }
        }
    }

    public string Name => $"{_backend.Accelerator.AcceleratorType.ToString().ToLowerInvariant()}: {_backend.Accelerator.Name}, float64 kernels";

    /// <summary>Device bytes of a pass: the resident matrices, the column chunks' partials and the vectors.</summary>
    internal static long RequiredBytes(int rows, int columns, bool weighted, int chunks) =>
        8 * (((weighted ? 2L : 1L) * rows * columns) + ((long)chunks * columns) + (2L * columns) + (3L * rows));

    /// <summary>
    /// Row chunks of the column sums: enough (chunk, column) threads to fill the device twice over, but
    /// at least 16 rows a chunk. Depends on the shape and the device's reported limits only.
    /// </summary>
    internal static (int Chunks, int ChunkRows) ColumnChunks(LaunchPlan plan, int rows, int columns)
    {
        long threads = 2 * Math.Max(1, plan.ResidentGroups) * plan.GroupSize;
        long wanted = Math.Clamp((threads + columns - 1) / columns, 1, Math.Max(1, rows / 16));
        wanted = Math.Min(wanted, Math.Max(1, int.MaxValue / columns));
        int chunkRows = (int)((rows + wanted - 1) / wanted);
        return ((rows + chunkRows - 1) / chunkRows, chunkRows);
    }

    public void Pass(double[] vector, RowWeight weight, double[] sums)
    {
        using (_backend.Use())
        {
            var v = _arena.Get<double>("vector", _columns);
            v.CopyFromCPU(vector.AsSpan(0, _columns));
            var dots = _arena.Get<double>("dots", _rows);
            var config = new KernelConfig(_rows, _groupSize);
            if (_weighted)
            {
                var weightedDots = _arena.Get<double>("weightedDots", _rows);
                _backend.Kernels(a => new Kernels(a, _backend.Plan.Specialization)).RowDotsWeighted(config, Matrix, _arena.Get<double>("second", (long)_rows * _columns), v, dots, weightedDots, _columns);
                weightedDots.CopyToCPU(_weightedDots);
            }
            else
            {
                _backend.Kernels(a => new Kernels(a, _backend.Plan.Specialization)).RowDots(config, Matrix, v, dots, _columns);
            }

            dots.CopyToCPU(_dots);
        }

        for (int i = 0; i < _rows; i++)
        {
            double w = _skipped?[i] == true ? weight(i, 0, 0) : weight(i, _dots[i], _weighted ? _weightedDots[i] : 0);
            _weights[i] = w > 0 ? w : 0;
        }

        using (_backend.Use())
        {
            var kernels = _backend.Kernels(a => new Kernels(a, _backend.Plan.Specialization));
            var w = _arena.Get<double>("weights", _rows);
            w.CopyFromCPU(_weights);
            var partials = _arena.Get<double>("partials", (long)_chunks * _columns);
            var result = _arena.Get<double>("sums", _columns);
            kernels.ColumnSums(_chunks * _columns, Matrix, w, partials, _rows, _columns, _chunkRows);
            kernels.SumChunks(_columns, partials, result, _chunks, _columns);
            result.CopyToCPU(sums.AsSpan(0, _columns));
        }
    }

    public void Dispose()
    {
        using (_backend.Use())
        {
            _arena.Dispose();
        }
    }

    private ArrayView<double> Matrix => _arena.Get<double>("matrix", (long)_rows * _columns);

    private static void Upload(ArrayView<double> target, double[,] matrix)
    {
        long length = matrix.LongLength;
        ref double first = ref matrix[0, 0];
        for (long offset = 0; offset < length; offset += UploadElements)
        {
            int count = (int)Math.Min(UploadElements, length - offset);
            target.SubView(offset, count).CopyFromCPU(MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref first, (nint)offset), count));
        }
    }

    private sealed class Kernels(Accelerator a, KernelSpecialization specialization)
    {
        public Action<KernelConfig, ArrayView<double>, ArrayView<double>, ArrayView<double>, int> RowDots { get; } =
            a.LoadStreamKernel<ArrayView<double>, ArrayView<double>, ArrayView<double>, int>(BlahutArimotoKernel.RowDots, specialization);

        public Action<KernelConfig, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, int> RowDotsWeighted { get; } =
            a.LoadStreamKernel<ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, ArrayView<double>, int>(BlahutArimotoKernel.RowDotsWeighted, specialization);

        public Action<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<double>, int, int, int> ColumnSums { get; } =
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, ArrayView<double>, int, int, int>(BlahutArimotoKernel.ColumnSums);

        public Action<Index1D, ArrayView<double>, ArrayView<double>, int, int> SumChunks { get; } =
            a.LoadAutoGroupedStreamKernel<Index1D, ArrayView<double>, ArrayView<double>, int, int>(BlahutArimotoKernel.SumChunks);
    }
}
