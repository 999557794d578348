using System.Collections.Concurrent;
using GpuInfo.Backends.Cpu.Lanes;
using GpuInfo.Kernels;

namespace GpuInfo.Backends.Cpu;

/// <summary>
/// The production CPU path: fused SIMD passes, parallel over rows, and over vocabulary slices when
/// rows are fewer than cores (slices merge with the kernels' associative merge). Every row is
/// computed on the same grid of slices whatever the schedule, so results are the same bits for any
/// row count per call, thread count or input and output alignment. Stateless apart from per-thread
/// scratch, so concurrent calls are safe.
/// </summary>
internal sealed class SimdCpuBackend : IRowBackend, IKernelTiming
{
    /// <summary>
    /// The width of the vocabulary slices every row is computed in (the last one narrower), merged
    /// left to right. Fixed, so that the arithmetic does not depend on how work is scheduled. Each
    /// slice start costs about 1 µs (measured with `gpuinfo bench --rows 512 --vocab 50257`: 8192
    /// columns, 7 slices a row, took cross-entropy from 3.5 to 5.9 ms; 32768 columns, 2 slices, to
    /// 4.2 ms), so the grid is wide: vocabularies up to 65536 are one slice, and only single calls
    /// with few rows of larger vocabularies are split across cores.
    /// </summary>
    private const int SliceColumns = 32 * BlockLoader.BlockSize;

    private readonly ParallelOptions _parallel;

    public SimdCpuBackend(int maxDegreeOfParallelism)
    {
        Workers = maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : Environment.ProcessorCount;
        _parallel = new ParallelOptions { MaxDegreeOfParallelism = Workers };
    }

    public int Workers { get; }

    /// <summary>
    /// Whether the passes run on 16 AVX-512 lanes (default where the JIT supports it) or on 8 lanes
    /// (the path of every other machine; tests set this to run it here too).
    /// </summary>
    internal bool WideLanes
    {
        get => _wideLanes;
        set => _wideLanes = value && Lanes512.IsSupported;
    }

    private bool _wideLanes = Lanes512.IsSupported;

    /// <summary>Forces the number of vocabulary slices per row (tests of the split path).</summary>
    internal int? ForcedSplits { get; set; }

    public void Score(in ScoreJob job)
    {
        if (_wideLanes)
        {
            Score<Lanes512>(job);
        }
        else
        {
            Score<Lanes256>(job);
        }
    }

    public void Compare(in CompareJob job)
    {
        if (_wideLanes)
        {
            Compare<Lanes512>(job);
        }
        else
        {
            Compare<Lanes256>(job);
        }
    }

    private void Score<TV>(in ScoreJob job)
        where TV : struct, ILanes<TV>
    {
        var j = job;
        int vocab = j.Logits.Vocab;
        bool smoothing = j.Loss != 0 && j.Ce.LabelSmoothing != 0;
        var stats = j.Entropy != 0 ? RowStats<TV, Yes>(j, smoothing) : RowStats<TV, No>(j, smoothing);
        RunSliced(j.Rows, vocab,
            stats,
            (a, b) => RowPartial.Merge(a, b, j.Ce.InvTemperature),
            (row, acc) => FinishRow(j, row, acc),
            j.Gradient == 0 ? null : (row, begin, end, acc) => SimdGradient<TV>.Slice(j, row, begin, end, acc.Softmax));
    }

    /// <summary>The single-input pass with the sums a job asks for (one compiled loop per combination).</summary>
    private static SliceStats<RowPartial> RowStats<TV, TEntropy>(ScoreJob j, bool smoothing)
        where TV : struct, ILanes<TV>
        where TEntropy : struct, ISwitch =>
        smoothing ? RowStats<TV, TEntropy, Yes>(j) : RowStats<TV, TEntropy, No>(j);

    private static SliceStats<RowPartial> RowStats<TV, TEntropy, TSmoothing>(ScoreJob j)
        where TV : struct, ILanes<TV>
        where TEntropy : struct, ISwitch
        where TSmoothing : struct, ISwitch =>
        j.Brier != 0 ? RowStatsOf<TV, RowSums<TEntropy, TSmoothing, Yes>>(j) : RowStatsOf<TV, RowSums<TEntropy, TSmoothing, No>>(j);

    private static SliceStats<RowPartial> RowStatsOf<TV, TSums>(ScoreJob j)
        where TV : struct, ILanes<TV>
        where TSums : struct, IRowSums =>
        (row, begin, end) => SimdRowStats<TV, TSums>.Slice(j.Logits, row, begin, end, j.Ce.InvTemperature, TSums.Smoothing ? WeightsOf(j).Span : default);

    private void Compare<TV>(in CompareJob job)
        where TV : struct, ILanes<TV>
    {
        var j = job;
        SliceStats<PairPartial> stats = j.BrierP != 0
            ? (row, begin, end) => SimdPairStats<TV, Yes>.Slice(j.P, j.Q, row, begin, end, j.InvTemperature)
            : (row, begin, end) => SimdPairStats<TV, No>.Slice(j.P, j.Q, row, begin, end, j.InvTemperature);
        RunSliced(j.Rows, j.P.Vocab,
            stats,
            (a, b) => PairPartial.Merge(a, b, j.InvTemperature),
            (row, acc) => FinishPair(j, row, acc),
            null,
            j.JensenShannon == 0 && j.TotalVariation == 0 ? null : (row, begin, end, acc) =>
                SimdJensenShannon<TV>.Slice(j.P, j.Q, row, begin, end, j.InvTemperature, new JsNormalizers(acc, j.InvTemperature)),
            j.JensenShannon, j.TotalVariation);
    }

    public void Dispose()
    {
    }

    public double[] TimeScore(in ScoreJob job, int warmups, int repeats)
    {
        var j = job;
        return Timing.Repeat(() => Score(j), warmups, repeats);
    }

    public double[] TimeCompare(in CompareJob job, int warmups, int repeats)
    {
        var j = job;
        return Timing.Repeat(() => Compare(j), warmups, repeats);
    }

    public unsafe double[] TimeRead(RowsView data, int warmups, int repeats)
    {
        long floats = data.Rows * data.RowBytes / 4;
        nint start = data.Data;
        const long Chunk = 1 << 20;
        long chunks = (floats + Chunk - 1) / Chunk;
        var sums = new float[chunks];
        return Timing.Repeat(() => Parallel.For(0L, chunks, _parallel, c =>
        {
            long first = c * Chunk;
            sums[c] = System.Numerics.Tensors.TensorPrimitives.Sum(new ReadOnlySpan<float>((float*)start + first, (int)Math.Min(Chunk, floats - first)));
        }), warmups, repeats);
    }

    private delegate T SliceStats<T>(long row, int begin, int end);

    private delegate PairTerms SliceSum<T>(long row, int begin, int end, T merged);

    private delegate void SecondPass<T>(long row, int begin, int end, T merged);

    /// <summary>
    /// The one parallel schedule of every CPU measure: stats per (row, slice), merged per row in slice
    /// order, finish, then optional second passes given the merged row (gradient, or compare's per-row
    /// sums, JS and TV, added in slice order and written where their addresses are not 0). Rows run in
    /// parallel when there are enough of them, else (row, slice) pairs do; the slices and the order of
    /// every merge and sum are the same either way.
    /// </summary>
    private unsafe void RunSliced<T>(long rows, int vocab, SliceStats<T> stats, Func<T, T, T> merge,
        Action<long, T> finish, SecondPass<T>? secondPass,
        SliceSum<T>? secondSum = null, nint jsOut = 0, nint tvOut = 0)
    {
        if (rows == 0)
        {
            return;
        }

        int width = ForcedSplits is int forced ? (vocab + Math.Clamp(forced, 1, vocab) - 1) / Math.Clamp(forced, 1, vocab) : SliceColumns;
        int splits = (vocab + width - 1) / width;
        if (splits == 1 || rows >= 4L * Workers)
        {
            long range = Math.Max(1, rows / (Workers * 8L));
            Parallel.ForEach(Partitioner.Create(0L, rows, range), _parallel, r =>
            {
                for (long row = r.Item1; row < r.Item2; row++)
                {
                    var acc = stats(row, 0, Math.Min(vocab, width));
                    for (int s = 1; s < splits; s++)
                    {
                        acc = merge(acc, stats(row, s * width, Math.Min(vocab, (s + 1) * width)));
                    }

                    finish(row, acc);
                    secondPass?.Invoke(row, 0, vocab, acc);
                    if (secondSum is not null)
                    {
                        float js = 0f, tv = 0f;
                        for (int s = 0; s < splits; s++)
                        {
                            var terms = secondSum(row, s * width, Math.Min(vocab, (s + 1) * width), acc);
                            js += terms.Js;
                            tv += terms.Tv;
                        }

                        Write(jsOut, row, js);
                        Write(tvOut, row, tv);
                    }
                }
            });
            return;
        }

        // Few rows: rows × splits is small (a few per core), so these arrays are tiny.
        long tasks = rows * splits;
        var partials = new T[tasks];
        Parallel.For(0L, tasks, _parallel, t =>
        {
            long row = t / splits;
            int begin = (int)(t - row * splits) * width;
            partials[t] = stats(row, begin, Math.Min(vocab, begin + width));
        });
        var merged = new T[rows];
        for (long row = 0; row < rows; row++)
        {
            var acc = partials[row * splits];
            for (int s = 1; s < splits; s++)
            {
                acc = merge(acc, partials[row * splits + s]);
            }

            merged[row] = acc;
            finish(row, acc);
        }

        if (secondPass is null && secondSum is null)
        {
            return;
        }

        var sums = new PairTerms[tasks];
        Parallel.For(0L, tasks, _parallel, t =>
        {
            long row = t / splits;
            int begin = (int)(t - row * splits) * width;
            int end = Math.Min(vocab, begin + width);
            secondPass?.Invoke(row, begin, end, merged[row]);
            if (secondSum is not null)
            {
                sums[t] = secondSum(row, begin, end, merged[row]);
            }
        });
        if (secondSum is not null)
        {
            for (long row = 0; row < rows; row++)
            {
                float js = 0f, tv = 0f;
                for (int s = 0; s < splits; s++)
                {
                    js += sums[row * splits + s].Js;
                    tv += sums[row * splits + s].Tv;
                }

                Write(jsOut, row, js);
                Write(tvOut, row, tv);
            }
        }
    }

    private static unsafe void Write(nint destination, long row, float value)
    {
        if (destination != 0)
        {
            ((float*)destination)[row] = value;
        }
    }

    private static unsafe ReadOnlyMemoryOfFloats WeightsOf(in ScoreJob job) =>
        new(job.Weights, job.Weights == 0 ? 0 : job.Logits.Vocab);

    private static unsafe void FinishRow(in ScoreJob job, long row, RowPartial acc)
    {
        ((float*)job.Lse)[row] = acc.Softmax.LogSumExp(job.Ce.InvTemperature);
        if (job.Entropy != 0)
        {
            ((float*)job.Entropy)[row] = acc.Softmax.Entropy;
        }

        if (job.ArgMax != 0)
        {
            ((int*)job.ArgMax)[row] = acc.Top.Result;
        }

        if (job.Confidence != 0)
        {
            ((float*)job.Confidence)[row] = acc.Softmax.TopProbability;
        }

        if (job.Loss != 0)
        {
            var ce = job.Ce;
            int y = ((int*)job.Targets)[row];
            float loss = 0f, brier = 0f;
            if (y != ce.IgnoreIndex)
            {
                float xy = BlockLoader.LoadOne(job.Logits, row, y);
                loss = acc.CrossEntropy(ce, xy, ce.HasWeights != 0 ? ((float*)job.Weights)[y] : 1f);
                brier = job.Brier != 0 ? acc.Softmax.BrierScore(xy, ce.InvTemperature) : 0f;
            }

            ((float*)job.Loss)[row] = loss;
            if (job.Brier != 0)
            {
                ((float*)job.Brier)[row] = brier;
            }
        }
    }

    private static unsafe void FinishPair(in CompareJob job, long row, PairPartial acc)
    {
        float invT = job.InvTemperature;
        ((float*)job.LseP)[row] = acc.P.LogSumExp(invT);
        ((float*)job.LseQ)[row] = acc.Q.LogSumExp(invT);
        if (job.KlForward != 0)
        {
            ((float*)job.KlForward)[row] = acc.KlForward(invT);
        }

        if (job.KlReverse != 0)
        {
            ((float*)job.KlReverse)[row] = acc.KlReverse(invT);
        }

        if (job.EntropyP != 0)
        {
            ((float*)job.EntropyP)[row] = acc.P.Entropy;
        }

        if (job.ArgMaxP != 0)
        {
            ((int*)job.ArgMaxP)[row] = acc.TopP.Result;
            ((int*)job.ArgMaxQ)[row] = acc.TopQ.Result;
        }

        if (job.ConfidenceP != 0)
        {
            ((float*)job.ConfidenceP)[row] = acc.P.TopProbability;
            ((float*)job.ConfidenceQ)[row] = acc.Q.TopProbability;
        }

        if (job.NllP != 0)
        {
            int y = ((int*)job.Targets)[row];
            float nllP = 0f, nllQ = 0f, ratio = 0f, brierP = 0f, brierQ = 0f;
            if (y != job.IgnoreIndex)
            {
                float xp = BlockLoader.LoadOne(job.P, row, y), xq = BlockLoader.LoadOne(job.Q, row, y);
                nllP = acc.P.NegativeLogProb(xp, invT);
                nllQ = acc.Q.NegativeLogProb(xq, invT);
                ratio = KlMath.LogRatio(acc.P, acc.Q, xp, xq, invT);
                if (job.BrierP != 0)
                {
                    brierP = acc.P.BrierScore(xp, invT);
                    brierQ = acc.Q.BrierScore(xq, invT);
                }
            }

            if (job.BrierP != 0)
            {
                ((float*)job.BrierP)[row] = brierP;
                ((float*)job.BrierQ)[row] = brierQ;
            }

            ((float*)job.NllP)[row] = nllP;
            ((float*)job.NllQ)[row] = nllQ;
            ((float*)job.LogRatio)[row] = ratio;
        }
    }

    /// <summary>A pinned float array passed into lambdas (spans cannot be captured).</summary>
    private readonly unsafe struct ReadOnlyMemoryOfFloats(nint address, int length)
    {
        public ReadOnlySpan<float> Span => new((void*)address, length);
    }
}
