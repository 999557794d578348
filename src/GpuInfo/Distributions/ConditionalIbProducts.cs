using System.Numerics;
using System.Numerics.Tensors;
using GpuInfo.Backends.Cpu;
using GpuInfo.Backends.Cpu.Blas;
using GpuInfo.Corpus;

namespace GpuInfo;

/// <summary>
/// The IB products over <see cref="ConditionalRows"/> on the CPU, without a dense joint: each pass
/// reads the rows chunk by chunk (one chunk ahead, <see cref="ChunkPipeline"/>), turns the chunk into
/// float32 values proportional to p(y|x) with each row's 1/Σ (<see cref="RowDistributions"/>: the
/// normalisation is folded into the cross terms and the numerator's weights), and multiplies it with float32 BLAS products
/// (<see cref="Sgemm"/>) whose per-block results are summed in float64: cross terms in vocabulary
/// blocks of <see cref="VocabBlock"/>, decoder numerators per <see cref="NumeratorRows"/> rows. <see cref="RowPassProducts.Step"/> fuses
/// an iteration into one pass: the chunk's cross terms, its encoder rows, then their share of the
/// next numerator, from one read and one softmax of each row. Memory is a few chunks plus the
/// [clusters, vocab] decoder, whatever the number of rows; or, when the float32 distributions of all
/// the rows fit the resident limit, those distributions, formed in the first pass and kept: later
/// passes read no file and compute no softmax, only the products.
/// </summary>
internal sealed unsafe class ConditionalIbProducts : RowPassProducts
{
    /// <summary>Columns of one float32 cross-term product; partial sums over blocks are float64.</summary>
    public const int VocabBlock = 4096;

    /// <summary>Rows whose numerator shares a float32 product sums before it is added to the float64 totals.</summary>
    public const int NumeratorRows = 1024;

    /// <summary>
    /// Bytes of a chunk's distributions when the rows are read every pass (two chunks of raw rows are
    /// held: one read ahead). The cross terms' BLAS rate grows with the rows of a chunk (the
    /// [clusters, vocab] log-decoder is packed again for every product). At 16384 x 50257 x 256 on the
    /// 2-core VM, three alternated rounds: 64 MiB 5.45-6.23 s an iteration, 128 MiB 5.09-5.54 s (8-11%
    /// faster in each round, +100 MB peak RSS), 256 MiB 4.96-5.80 s (+263 MB).
    /// </summary>
    public const long StreamedChunkBytes = 128L << 20;

    /// <summary>
    /// Chunks of resident distributions are this many read chunks: the cross terms are a
    /// [clusters, rows]·[rows, vocab]ᵀ product whose BLAS rate grows with the rows (OpenBLAS on the
    /// 2-core VM, vocab 50257: 115/129/137 GFLOP/s for 64 clusters and 143/160/168 for 256 at
    /// 333/666/1332 rows), and resident chunks cost no buffer of their own: 1334 rows at vocab 50257.
    /// </summary>
    public const int ResidentChunkFactor = 2;

    /// <summary>log 0 in float32: finite, so 0·log 0 stays 0 in a product.</summary>
    private const float LogZero = -1e30f;

    private readonly ConditionalRows _rows;
    private readonly ResidentDistributions? _resident;
    private readonly double[] _px;
    private readonly Sgemm _sgemm;
    private readonly int _workers;
    private readonly CancellationToken _cancellation;
    private readonly int _x;
    private readonly int _y;
    private readonly int _chunkRows;
    private float[]? _p;
    private readonly double[] _inverseSums;
    private readonly BlockBuffers _blockBuffers = new();
    private float[]? _decoder32;
    private float[]? _product;
    private double[]? _cross;
    private double[]? _crossT;
    private float[]? _crossBlock;
    private float[]? _weights;

    private ConditionalIbProducts(ConditionalRows rows, double[] px, Sgemm sgemm, int workers, long? chunkBytes, long residentBytes, CancellationToken cancellation)
        : base(rows.Contexts)
    {
        _rows = rows;
        _px = px;
        _sgemm = sgemm;
        _workers = workers > 0 ? workers : Environment.ProcessorCount;
        _cancellation = cancellation;
        _x = rows.Contexts;
        _y = rows.Vocab;
        _chunkRows = (int)Math.Clamp((chunkBytes ?? StreamedChunkBytes) / (4L * _y), 1, Math.Max(1, Math.Min(_x, (int.MaxValue / 2) / (4L * _y))));
        _inverseSums = new double[_chunkRows];
        if (KeepsResident(rows, residentBytes))
        {
            long factor = Math.Clamp(Array.MaxLength / _y / _chunkRows, 1, ResidentChunkFactor);
            _resident = new ResidentDistributions(_x, _y, (int)(_chunkRows * factor));
        }
    }

    public override string Name => $"cpu, {_sgemm.Name}" + (_resident is null ? string.Empty : ", distributions resident");

    /// <summary>Whether the rows' float32 distributions fit <paramref name="residentBytes"/>, and so are kept from the first pass on.</summary>
    public static bool KeepsResident(ConditionalRows rows, long residentBytes) => 4L * rows.Contexts * rows.Vocab <= residentBytes;

    /// <summary>Reads the rows once: checks them, and computes p(x), p(y), Σ_y p ln p per x and I(X;Y).</summary>
    /// <exception cref="RowSourceException">A row is no distribution, or a read failed.</exception>
    /// <param name="chunkBytes">float32 distributions per chunk read; null: <see cref="StreamedChunkBytes"/>.</param>
    /// <param name="residentBytes">When the float32 distributions of all the rows take at most this, they are kept from the first pass on.</param>
    /// <param name="onRead">Sees each block of raw rows as read, before anything is made of it (an accelerator keeps them; valid only during the call).</param>
    public static IbProblem Problem(ConditionalRows rows, Sgemm sgemm, int workers, long? chunkBytes, long residentBytes, CancellationToken cancellation, Action<RowBlock>? onRead = null)
    {
        var px = rows.ContextMarginal();
        var products = new ConditionalIbProducts(rows, px, sgemm, workers, chunkBytes, residentBytes, cancellation);
        try
        {
            var (py, negHyx) = products.Marginals(onRead);
            double hy = -py.Sum(p => p > 0 ? p * Math.Log(p) : 0);
            double hyx = -px.Select((w, i) => w * negHyx[i]).Sum();
            return new IbProblem(px, py, negHyx, Math.Max(0, hy - hyx) / Math.Log(2), products);
        }
        catch
        {
            products.Dispose();
            throw;
        }
    }

    public override void Dispose() => _resident?.Dispose();

    /// <summary>One read of the rows: cross terms of a decoder for each chunk (then onCross), and/or the numerator of weights(x, t).</summary>
    protected override void Pass(double[]? logDecoder, int clusters, Action<int, int, double[]>? onCross, Func<int, int, double>? weights, double[]? numerator)
    {
        float[]? decoder = logDecoder is null ? null : ToFloat32(logDecoder, ref _decoder32);
        int chunkRows = Math.Max(_chunkRows, _resident?.ChunkRows ?? 0);
        long perChunk = (long)chunkRows * clusters;
        var cross = Reuse(ref _cross, perChunk);
        var crossBlock = Reuse(ref _crossBlock, perChunk);
        var crossT = Reuse(ref _crossT, perChunk);
        var w = Reuse(ref _weights, perChunk);
        var product = numerator is null ? null : Reuse(ref _product, (long)clusters * _y);
        if (numerator is not null)
        {
            Array.Clear(numerator);
        }

        int pending = 0;
        void Flush()
        {
            Parallel.For(0, clusters, new ParallelOptions { MaxDegreeOfParallelism = _workers }, k =>
                AddWidened(product!, (long)k * _y, numerator!, (long)k * _y, _y));
            pending = 0;
        }

        ForEachChunk(null, (first, rows, p, inverseSums) =>
        {
            if (decoder is not null)
            {
                // crossᵀ [clusters, rows] = L·Pᵀ: BLAS runs this shape faster than P·Lᵀ (130 against 104 GFLOP/s at 333 rows).
                Array.Clear(crossT, 0, rows * clusters);
                for (int b = 0; b < _y; b += VocabBlock)
                {
                    int len = Math.Min(VocabBlock, _y - b);
                    _sgemm.MultiplyTransposed(clusters, rows, len, decoder.AsSpan(b), _y, p[b..], _y, crossBlock, rows);
                    AddWidened(crossBlock, 0, crossT, 0, rows * clusters);
                }

                for (int r = 0; r < rows; r++)
                {
                    for (int k = 0; k < clusters; k++)
                    {
                        cross[(r * clusters) + k] = crossT[(k * rows) + r] * inverseSums[r];
                    }
                }

                onCross!(first, rows, cross);
            }

            if (numerator is not null)
            {
                for (int r = 0; r < rows; r++)
                {
                    for (int k = 0; k < clusters; k++)
                    {
                        w[r * clusters + k] = (float)(_px[first + r] * inverseSums[r] * weights!(first + r, k));
                    }
                }

                _sgemm.MultiplyTransposedLeft(clusters, _y, rows, w, clusters, p, _y, product, _y, accumulate: pending > 0);
                pending += rows;
                if (pending >= NumeratorRows)
                {
                    Flush();
                }
            }
        });
        if (pending > 0)
        {
            Flush();
        }
    }

    private (double[] Py, double[] NegHyx) Marginals(Action<RowBlock>? onRead)
    {
        var py = new double[_y];
        var negHyx = new double[_x];
        var w = new float[_chunkRows];
        var share = new float[_y];
        ForEachChunk(negHyx, (first, rows, p, inverseSums) =>
        {
            for (int r = 0; r < rows; r++)
            {
                w[r] = (float)(_px[first + r] * inverseSums[r]);
            }

            _sgemm.MultiplyTransposedLeft(1, _y, rows, w, 1, p, _y, share, _y);
            AddWidened(share, 0, py, 0, _y);
        }, onRead);
        return (py, negHyx);
    }

    /// <summary>A chunk's distributions (rows × vocab, see <see cref="RowDistributions.Fill"/>) and their rows' 1/Σ, valid until the call returns.</summary>
    private delegate void ChunkAction(int first, int rows, ReadOnlySpan<float> p, ReadOnlySpan<double> inverseSums);

    /// <summary>
    /// Hands each chunk's distributions to <paramref name="onChunk"/>: the resident ones once a pass has
    /// formed them all; else every row read, a chunk ahead, and turned into its distribution: into the
    /// resident chunks (the first pass), where a float32 chunk was read (one write of each row less), or
    /// widened into <see cref="_p"/>.
    /// </summary>
    private void ForEachChunk(double[]? negativeEntropies, ChunkAction onChunk, Action<RowBlock>? onRead = null)
    {
        if (_resident is { Complete: true } resident)
        {
            for (int first = 0; first < _x; first += resident.ChunkRows)
            {
                _cancellation.ThrowIfCancellationRequested();
                int rows = Math.Min(resident.ChunkRows, _x - first);
                onChunk(first, rows, new ReadOnlySpan<float>(resident.Chunk(first), rows * _y), resident.InverseSums.AsSpan(first, rows));
            }

            return;
        }

        using var pipeline = new ChunkPipeline([_rows.Source], 0, _x, (long)_chunkRows * _rows.Source.RowBytes, 1, _cancellation, _blockBuffers);
        var chunkEntropies = negativeEntropies is null ? null : new double[_chunkRows];
        while (pipeline.Take() is { } set)
        {
            var block = set[0];
            int first = (int)block.FirstRow, rows = block.Rows;
            try
            {
                onRead?.Invoke(block);
                if (_resident is not null)
                {
                    // A read chunk lies in one resident chunk where the source reads whole chunks (they tile
                    // the resident ones); a model's chunks end where its windows do, so one may straddle
                    // two: each part goes to its own.
                    for (int done = 0; done < rows;)
                    {
                        int at = first + done, offset = at % _resident.ChunkRows;
                        int part = Math.Min(rows - done, _resident.ChunkRows - offset);
                        var chunk = _resident.Chunk(at);
                        RowDistributions.Fill(block, _rows, chunk, offset, _resident.InverseSums, at, chunkEntropies, _workers, done, part);
                        chunkEntropies?.AsSpan(0, part).CopyTo(negativeEntropies.AsSpan(at));
                        onChunk(at, part, new ReadOnlySpan<float>(chunk + ((long)offset * _y), part * _y), _resident.InverseSums.AsSpan(at, part));
                        done += part;
                    }

                    continue;
                }

                bool inPlace = block.OwnsFloat32Rows;
                var p = inPlace ? null : Reuse(ref _p, (long)_chunkRows * _y);
                fixed (float* destination = p)
                {
                    RowDistributions.Fill(block, _rows, destination, 0, _inverseSums, 0, chunkEntropies, _workers);
                }

                chunkEntropies?.AsSpan(0, rows).CopyTo(negativeEntropies.AsSpan(first));
                onChunk(first, rows, inPlace ? block.OwnFloat32Rows : p.AsSpan(0, rows * _y), _inverseSums.AsSpan(0, rows));
            }
            finally
            {
                pipeline.Return(set);
            }
        }

        if (_resident is not null)
        {
            _resident.Complete = true;
        }
    }

    /// <summary>The log-decoder in float32 (into <paramref name="buffer"/>), log 0 (and anything below it) as <see cref="LogZero"/>.</summary>
    internal static float[] ToFloat32(double[] logDecoder, ref float[]? buffer)
    {
        // Narrowing is monotonic, so clamping after it gives what clamping before it would.
        var result = Reuse(ref buffer, logDecoder.Length);
        TensorPrimitives.ConvertTruncating<double, float>(logDecoder, result);
        TensorPrimitives.Max(result, LogZero, result);
        return result;
    }

    /// <summary>
    /// A pass's large buffers live across passes (an IB runs one a iteration): fresh ones each pass
    /// came from fresh pages. With these, the block buffers and the solver's arrays all reused, an
    /// iteration at 4096 x 50257 x 64 went from 35k page faults and 1.00-1.15 s to none and 0.57-0.58 s
    /// on the 2-core VM.
    /// </summary>
    internal static T[] Reuse<T>(ref T[]? buffer, long length)
    {
        if (buffer is null || buffer.LongLength != length)
        {
            buffer = new T[length];
        }

        return buffer;
    }

    /// <summary>destination[d..] += source[s..] over count elements, widening float32 to float64.</summary>
    private static void AddWidened(float[] source, long s, double[] destination, long d, int count)
    {
        var src = source.AsSpan((int)s, count);
        var dst = destination.AsSpan((int)d, count);
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            for (; i <= count - Vector<float>.Count; i += Vector<float>.Count)
            {
                Vector.Widen(new Vector<float>(src[i..]), out var low, out var high);
                var lowSpan = dst.Slice(i, Vector<double>.Count);
                var highSpan = dst.Slice(i + Vector<double>.Count, Vector<double>.Count);
                (new Vector<double>(lowSpan) + low).CopyTo(lowSpan);
                (new Vector<double>(highSpan) + high).CopyTo(highSpan);
            }
        }

        for (; i < count; i++)
        {
            dst[i] += src[i];
        }
    }

    /// <summary>
    /// The float32 distributions of every row (in chunks of <see cref="ChunkRows"/> rows, in
    /// <see cref="LargePages"/>: fresh 4 KiB pages cost the first pass ~1 s a GB in page faults on the
    /// 2-core VM) and each row's 1/Σ.
    /// </summary>
    private sealed class ResidentDistributions : IDisposable
    {
        private readonly nint[] _chunks;

        public ResidentDistributions(int contexts, int vocab, int chunkRows)
        {
            ChunkRows = chunkRows;
            InverseSums = new double[contexts];
            _chunks = new nint[(contexts + chunkRows - 1) / chunkRows];
            try
            {
                for (int c = 0; c < _chunks.Length; c++)
                {
                    _chunks[c] = (nint)LargePages.Allocate((long)Math.Min(chunkRows, contexts - (c * chunkRows)) * vocab);
                }
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public int ChunkRows { get; }

        public double[] InverseSums { get; }

        /// <summary>True once a pass has formed every row (a pass that fails leaves it false, and the next one forms them again).</summary>
        public bool Complete { get; set; }

        /// <summary>The chunk that holds row <paramref name="row"/>.</summary>
        public float* Chunk(int row) => (float*)_chunks[row / ChunkRows];

        public void Dispose()
        {
            for (int c = 0; c < _chunks.Length; c++)
            {
                if (_chunks[c] != 0)
                {
                    LargePages.Free((float*)_chunks[c]);
                    _chunks[c] = 0;
                }
            }
        }
    }
}
