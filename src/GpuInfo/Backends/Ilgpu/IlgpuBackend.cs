using GpuInfo.Kernels;
using ILGPU;
using ILGPU.Runtime;

namespace GpuInfo.Backends.Ilgpu;

/// <summary>
/// Runs the row kernels on one ILGPU accelerator (CUDA, OpenCL, or the CPU simulator). Host rows
/// are processed in chunks that fit a device-memory budget; chunk k uploads on one stream while
/// chunk k-1 computes on the other. Calls are serialised on this instance (one set of buffers).
/// </summary>
internal sealed class IlgpuBackend : IRowBackend, IKernelTiming
{
    private readonly object _gate = new();
    private readonly AcceleratorStream[] _streams;
    private readonly DeviceArena[] _arenas;
    private readonly DeviceArena _shared;
    private readonly Dictionary<Type, object> _kernels = [];
    private readonly long _chunkBudget;
    private bool _disposed;

    private readonly Context _context;

    public IlgpuBackend(Accelerator accelerator, long memoryBudgetBytes, Context context)
    {
        Accelerator = accelerator;
        _context = context;
        Plan = new LaunchPlan(new DeviceShape(accelerator.WarpSize, accelerator.MaxNumThreadsPerGroup,
            accelerator.NumMultiprocessors, accelerator.MaxNumThreadsPerMultiprocessor));
        _streams = [accelerator.CreateStream(), accelerator.CreateStream()];
        _arenas = [new DeviceArena(accelerator), new DeviceArena(accelerator)];
        _shared = new DeviceArena(accelerator);
        _chunkBudget = Math.Max(1 << 20, memoryBudgetBytes / 2);
    }

    public Accelerator Accelerator { get; }

    /// <summary>
    /// Serialises every use of <see cref="Accelerator"/> (row kernels and IB products) and makes its
    /// context the calling thread's: a CUDA context is current per thread, and ILGPU 1.5.3 binds it
    /// for copies, launches and allocations but not, for one, to free a buffer (cuMemFree), which a
    /// <see cref="DeviceArena"/> does when it grows. Callers come from the corpus's consumers and
    /// the thread pool, not the thread that made the context.
    /// </summary>
    internal GateScope Use()
    {
        Monitor.Enter(_gate);
        try
        {
            if (!_disposed)
            {
                Accelerator.Bind();
            }
        }
        catch
        {
            Monitor.Exit(_gate);
            throw;
        }

        return new GateScope(_gate);
    }

    /// <summary>The launch configuration, derived from what the accelerator reports.</summary>
    internal LaunchPlan Plan { get; }

    public int GroupSize => Plan.GroupSize;

    /// <summary>Forces vocabulary slices per row (tests of the split path).</summary>
    internal int? ForcedSplits { get; set; }

    /// <summary>Forces rows per chunk (tests of the chunking).</summary>
    internal long? ForcedChunkRows { get; set; }

    public void Score(in ScoreJob job)
    {
        using (Use())
        {
            switch (job.Logits.Type)
            {
                case ScalarType.Float32:
                    ScoreTyped<float, Float32Loader>(job);
                    break;
                case ScalarType.Float16:
                    ScoreTyped<ILGPU.Half, Float16Loader>(job);
                    break;
                default:
                    ScoreTyped<ushort, BFloat16Loader>(job);
                    break;
            }
        }
    }

    public void Compare(in CompareJob job)
    {
        using (Use())
        {
            switch (job.P.Type)
            {
                case ScalarType.Float32:
                    CompareWithP<float, Float32Loader>(job);
                    break;
                case ScalarType.Float16:
                    CompareWithP<ILGPU.Half, Float16Loader>(job);
                    break;
                default:
                    CompareWithP<ushort, BFloat16Loader>(job);
                    break;
            }
        }
    }

    public void Dispose()
    {
        using (Use())
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var arena in _arenas)
            {
                arena.Dispose();
            }

            _shared.Dispose();
            foreach (var stream in _streams)
            {
                stream.Dispose();
            }

            Accelerator.Dispose();
            _context.Dispose();
        }
    }

    public double[] TimeScore(in ScoreJob job, int warmups, int repeats)
    {
        using (Use())
        {
            return job.Logits.Type switch
            {
                ScalarType.Float32 => TimeScoreTyped<float, Float32Loader>(job, warmups, repeats),
                ScalarType.Float16 => TimeScoreTyped<ILGPU.Half, Float16Loader>(job, warmups, repeats),
                _ => TimeScoreTyped<ushort, BFloat16Loader>(job, warmups, repeats),
            };
        }
    }

    public double[] TimeCompare(in CompareJob job, int warmups, int repeats)
    {
        using (Use())
        {
            if (job.P.Type != job.Q.Type)
            {
                throw new ArgumentException("device-resident timing compares inputs of one dtype.", nameof(job));
            }

            return job.P.Type switch
            {
                ScalarType.Float32 => TimeCompareTyped<float, Float32Loader>(job, warmups, repeats),
                ScalarType.Float16 => TimeCompareTyped<ILGPU.Half, Float16Loader>(job, warmups, repeats),
                _ => TimeCompareTyped<ushort, BFloat16Loader>(job, warmups, repeats),
            };
        }
    }

    public double[] TimeRead(RowsView data, int warmups, int repeats)
    {
        using (Use())
        {
            long floats = data.Rows * data.RowBytes / 4;
            var stream = _streams[0];
            var view = _arenas[0].Upload<float>("logits", stream, data.Data, floats);
            int threads = Accelerator.NumMultiprocessors * Math.Max(GroupSize, Accelerator.MaxNumThreadsPerMultiprocessor);
            var sums = _arenas[0].Get<float>("read-sums", threads);
            var kernel = Kernels<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>>>(a =>
                a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, ArrayView<float>>(ReadKernel.Sum));
            stream.Synchronize();
            return Timing.Repeat(() =>
            {
                kernel(stream, threads, view, sums);
                stream.Synchronize();
            }, warmups, repeats);
        }
    }

    /// <summary>Device-to-device copy of the rows (read + write): the copy-bandwidth baseline of the GPU notes.</summary>
    public double[] TimeCopy(RowsView data, int warmups, int repeats)
    {
        using (Use())
        {
            long bytes = data.Rows * data.RowBytes;
            var stream = _streams[0];
            var source = _arenas[0].Upload<byte>("logits", stream, data.Data, bytes);
            var target = _arenas[1].Get<byte>("copy", bytes);
            stream.Synchronize();
            return Timing.Repeat(() =>
            {
                source.CopyTo(stream, target);
                stream.Synchronize();
            }, warmups, repeats);
        }
    }

    private double[] TimeScoreTyped<T, TLoad>(ScoreJob job, int warmups, int repeats)
        where T : unmanaged
        where TLoad : struct, ILogitLoader<T>
    {
        var k = Kernels<SingleKernels<T, TLoad>>(a => new SingleKernels<T, TLoad>(a, Plan.Specialization));
        var stream = _streams[0];
        var arena = _arenas[0];
        var weights = UploadWeights(job);
        var logits = arena.Upload<T>("logits", stream, job.Logits.Data, job.Rows * job.Logits.Vocab);
        var targets = job.Targets == 0 ? ArrayView<int>.Empty : arena.Upload<int>("targets", stream, job.Targets, job.Rows);
        int splits = SplitCount(job.Rows, job.Logits.Vocab);
        Action download = () => { };
        var times = Timing.Repeat(() =>
        {
            download = LaunchScore(k, stream, arena, job, logits, targets, weights, splits, inPlace: false);
            stream.Synchronize();
        }, warmups, repeats);
        download();
        stream.Synchronize();
        return times;
    }

    private double[] TimeCompareTyped<T, TLoad>(CompareJob job, int warmups, int repeats)
        where T : unmanaged
        where TLoad : struct, ILogitLoader<T>
    {
        var k = Kernels<PairKernels<T, TLoad, T, TLoad>>(a => new PairKernels<T, TLoad, T, TLoad>(a, Plan.Specialization));
        var stream = _streams[0];
        var arena = _arenas[0];
        long n = job.Rows * job.P.Vocab;
        var p = arena.Upload<T>("p", stream, job.P.Data, n);
        var q = arena.Upload<T>("q", stream, job.Q.Data, n);
        var targets = job.Targets == 0 ? ArrayView<int>.Empty : arena.Upload<int>("targets", stream, job.Targets, job.Rows);
        int splits = SplitCount(job.Rows, job.P.Vocab);
        Action download = () => { };
        var times = Timing.Repeat(() =>
        {
            download = LaunchCompare(k, stream, arena, job, p, q, targets, splits);
            stream.Synchronize();
        }, warmups, repeats);
        download();
        stream.Synchronize();
        return times;
    }

    private void CompareWithP<TP, TLP>(in CompareJob job)
        where TP : unmanaged
        where TLP : struct, ILogitLoader<TP>
    {
        switch (job.Q.Type)
        {
            case ScalarType.Float32:
                CompareTyped<TP, TLP, float, Float32Loader>(job);
                break;
            case ScalarType.Float16:
                CompareTyped<TP, TLP, ILGPU.Half, Float16Loader>(job);
                break;
            default:
                CompareTyped<TP, TLP, ushort, BFloat16Loader>(job);
                break;
        }
    }

    private void ScoreTyped<T, TLoad>(in ScoreJob job)
        where T : unmanaged
        where TLoad : struct, ILogitLoader<T>
    {
        var k = Kernels<SingleKernels<T, TLoad>>(a => new SingleKernels<T, TLoad>(a, Plan.Specialization));
        int vocab = job.Logits.Vocab;
        bool inPlace = job.Gradient != 0 && job.Gradient == job.Logits.Data;
        long rowBytes = (long)vocab * Interop.SizeOf<T>() + (job.Gradient != 0 && !inPlace ? vocab * 4L : 0);
        var weights = UploadWeights(job);
        var j = job;
        RunChunks(job.Rows, vocab, rowBytes, (stream, arena, first, rows, splits) =>
        {
            var part = j.Slice(first, rows);
            var logits = arena.Upload<T>("logits", stream, part.Logits.Data, rows * vocab);
            var targets = part.Targets == 0 ? ArrayView<int>.Empty : arena.Upload<int>("targets", stream, part.Targets, rows);
            return LaunchScore(k, stream, arena, part, logits, targets, weights, splits, inPlace);
        });
    }

    /// <summary>Launches the single-input kernels over device-resident rows; returns the download of the results.</summary>
    private Action LaunchScore<T, TLoad>(SingleKernels<T, TLoad> k, AcceleratorStream stream, DeviceArena arena, ScoreJob part,
        ArrayView<T> logits, ArrayView<int> targets, ArrayView<float> weights, int splits, bool inPlace)
        where T : unmanaged
        where TLoad : struct, ILogitLoader<T>
    {
        long rows = part.Rows;
        int vocab = part.Logits.Vocab;
        var ce = part.Ce;
        var shape = new SliceShape(vocab, splits, ViewAlignment.Misalign(logits));
        var config = new KernelConfig((int)(rows * splits), GroupSize);
        var partials = arena.Get<RowPartial>("partials", rows * splits);
        k.Stats(stream, config, logits, shape, ce.InvTemperature, weights, partials);
        var outputs = new RowOutputs
        {
            Lse = arena.Get<float>("lse", rows),
            Entropy = Optional<float>(arena, "entropy", part.Entropy, rows),
            Loss = Optional<float>(arena, "loss", part.Loss, rows),
            ArgMax = Optional<int>(arena, "argmax", part.ArgMax, rows),
            Confidence = Optional<float>(arena, "confidence", part.Confidence, rows),
            Brier = Optional<float>(arena, "brier", part.Brier, rows),
        };
        k.Finish(stream, (int)rows, logits, partials, splits, ce, targets, weights, outputs);
        var gradient = ArrayView<float>.Empty;
        if (part.Gradient != 0)
        {
            gradient = inPlace ? logits.Cast<float>() : arena.Get<float>("gradient", rows * vocab);
            k.Gradient(stream, config, logits, shape with { MisalignQ = ViewAlignment.Misalign(gradient) }, ce, targets, weights, partials, gradient);
        }

        return () =>
        {
            Download(stream, outputs.Lse, part.Lse, rows);
            Download(stream, outputs.Entropy, part.Entropy, rows);
            Download(stream, outputs.Loss, part.Loss, rows);
            Download(stream, outputs.ArgMax, part.ArgMax, rows);
            Download(stream, outputs.Confidence, part.Confidence, rows);
            Download(stream, outputs.Brier, part.Brier, rows);
            Download(stream, gradient, part.Gradient, rows * vocab);
        };
    }

    private ArrayView<float> UploadWeights(in ScoreJob job)
    {
        if (job.Weights == 0)
        {
            return ArrayView<float>.Empty;
        }

        var weights = _shared.Upload<float>("weights", _streams[0], job.Weights, job.Logits.Vocab);
        _streams[0].Synchronize();
        return weights;
    }

    private void CompareTyped<TP, TLP, TQ, TLQ>(in CompareJob job)
        where TP : unmanaged
        where TLP : struct, ILogitLoader<TP>
        where TQ : unmanaged
        where TLQ : struct, ILogitLoader<TQ>
    {
        var k = Kernels<PairKernels<TP, TLP, TQ, TLQ>>(a => new PairKernels<TP, TLP, TQ, TLQ>(a, Plan.Specialization));
        int vocab = job.P.Vocab;
        long rowBytes = (long)vocab * (Interop.SizeOf<TP>() + Interop.SizeOf<TQ>());
        var j = job;
        RunChunks(job.Rows, vocab, rowBytes, (stream, arena, first, rows, splits) =>
        {
            var part = j.Slice(first, rows);
            var p = arena.Upload<TP>("p", stream, part.P.Data, rows * vocab);
            var q = arena.Upload<TQ>("q", stream, part.Q.Data, rows * vocab);
            var targets = part.Targets == 0 ? ArrayView<int>.Empty : arena.Upload<int>("targets", stream, part.Targets, rows);
            return LaunchCompare(k, stream, arena, part, p, q, targets, splits);
        });
    }

    /// <summary>Launches the two-input kernels over device-resident rows; returns the download of the results.</summary>
    private Action LaunchCompare<TP, TLP, TQ, TLQ>(PairKernels<TP, TLP, TQ, TLQ> k, AcceleratorStream stream, DeviceArena arena,
        CompareJob part, ArrayView<TP> p, ArrayView<TQ> q, ArrayView<int> targets, int splits)
        where TP : unmanaged
        where TLP : struct, ILogitLoader<TP>
        where TQ : unmanaged
        where TLQ : struct, ILogitLoader<TQ>
    {
        long rows = part.Rows;
        int vocab = part.P.Vocab;
        var shape = new SliceShape(vocab, splits, ViewAlignment.Misalign(p), ViewAlignment.Misalign(q));
        var config = new KernelConfig((int)(rows * splits), GroupSize);
        var partials = arena.Get<PairPartial>("pair-partials", rows * splits);
        k.Stats(stream, config, p, q, shape, part.InvTemperature, partials);
        var outputs = new PairOutputs
        {
            LseP = arena.Get<float>("lse-p", rows),
            LseQ = arena.Get<float>("lse-q", rows),
            KlForward = Optional<float>(arena, "kl", part.KlForward, rows),
            KlReverse = Optional<float>(arena, "kl-reverse", part.KlReverse, rows),
            EntropyP = Optional<float>(arena, "entropy-p", part.EntropyP, rows),
            ArgMaxP = Optional<int>(arena, "argmax-p", part.ArgMaxP, rows),
            ArgMaxQ = Optional<int>(arena, "argmax-q", part.ArgMaxQ, rows),
            ConfidenceP = Optional<float>(arena, "confidence-p", part.ConfidenceP, rows),
            ConfidenceQ = Optional<float>(arena, "confidence-q", part.ConfidenceQ, rows),
            NllP = Optional<float>(arena, "nll-p", part.NllP, rows),
            NllQ = Optional<float>(arena, "nll-q", part.NllQ, rows),
            LogRatio = Optional<float>(arena, "log-ratio", part.LogRatio, rows),
            BrierP = Optional<float>(arena, "brier-p", part.BrierP, rows),
            BrierQ = Optional<float>(arena, "brier-q", part.BrierQ, rows),
        };
        k.Finish(stream, (int)rows, p, q, partials, splits, vocab, part.InvTemperature, targets, part.IgnoreIndex, outputs);
        var js = ArrayView<float>.Empty;
        var tv = ArrayView<float>.Empty;
        if (part.JensenShannon != 0 || part.TotalVariation != 0)
        {
            // One second pass forms both; a sum nobody asked for is left on the device.
            js = arena.Get<float>("js", rows);
            tv = arena.Get<float>("tv", rows);
            var jsSums = splits == 1 ? js : arena.Get<float>("js-slices", rows * splits);
            var tvSums = splits == 1 ? tv : arena.Get<float>("tv-slices", rows * splits);
            k.JensenShannon(stream, config, p, q, shape, part.InvTemperature, partials, jsSums, tvSums);
            if (splits > 1)
            {
                SumSlices(stream, (int)rows, jsSums, splits, js);
                SumSlices(stream, (int)rows, tvSums, splits, tv);
            }
        }

        return () =>
        {
            Download(stream, outputs.LseP, part.LseP, rows);
            Download(stream, outputs.LseQ, part.LseQ, rows);
            Download(stream, outputs.KlForward, part.KlForward, rows);
            Download(stream, outputs.KlReverse, part.KlReverse, rows);
            Download(stream, outputs.EntropyP, part.EntropyP, rows);
            Download(stream, outputs.ArgMaxP, part.ArgMaxP, rows);
            Download(stream, outputs.ArgMaxQ, part.ArgMaxQ, rows);
            Download(stream, outputs.ConfidenceP, part.ConfidenceP, rows);
            Download(stream, outputs.ConfidenceQ, part.ConfidenceQ, rows);
            Download(stream, outputs.NllP, part.NllP, rows);
            Download(stream, outputs.NllQ, part.NllQ, rows);
            Download(stream, outputs.LogRatio, part.LogRatio, rows);
            Download(stream, outputs.BrierP, part.BrierP, rows);
            Download(stream, outputs.BrierQ, part.BrierQ, rows);
            Download(stream, js, part.JensenShannon, rows);
            Download(stream, tv, part.TotalVariation, rows);
        };
    }

    /// <summary>Launches one chunk's uploads and kernels, and returns the action that downloads its results.</summary>
    private delegate Action ChunkLauncher(AcceleratorStream stream, DeviceArena arena, long first, long rows, int splits);

    /// <summary>
    /// The chunk pipeline: launch chunk k on stream k%2, then download chunk k-1 (whose buffers the
    /// launch of chunk k+1 will reuse), so uploads and downloads overlap the other stream's kernels.
    /// </summary>
    private void RunChunks(long rows, int vocab, long rowBytes, ChunkLauncher launch)
    {
        if (rows == 0)
        {
            return;
        }

        long maxGroups = int.MaxValue / 2;
        long chunkRows = ForcedChunkRows ?? Math.Max(1, _chunkBudget / Math.Max(1, rowBytes));
        chunkRows = Math.Min(Math.Min(chunkRows, rows), maxGroups);
        Action? pending = null;
        int index = 0;
        for (long first = 0; first < rows; first += chunkRows, index++)
        {
            long n = Math.Min(chunkRows, rows - first);
            int splits = SplitCount(n, vocab);
            while (n * splits > maxGroups && splits > 1)
            {
                splits--;
            }

            var stream = _streams[index % 2];
            var download = launch(stream, _arenas[index % 2], first, n, splits);
            pending?.Invoke();
            pending = () =>
            {
                download();
                stream.Synchronize();
            };
        }

        pending?.Invoke();
        foreach (var stream in _streams)
        {
            stream.Synchronize();
        }
    }

    private int SplitCount(long rows, int vocab)
    {
        if (ForcedSplits is int forced)
        {
            return Math.Clamp(forced, 1, vocab);
        }

        return Plan.SplitCount(rows, vocab);
    }

    private void SumSlices(AcceleratorStream stream, int rows, ArrayView<float> sums, int splits, ArrayView<float> output)
    {
        var kernel = Kernels<Action<AcceleratorStream, Index1D, ArrayView<float>, int, ArrayView<float>>>(a =>
            a.LoadAutoGroupedKernel<Index1D, ArrayView<float>, int, ArrayView<float>>(JensenShannonKernel.SumSlices));
        kernel(stream, rows, sums, splits, output);
    }

    /// <summary>Kernels loaded once per backend (ILGPU compiles on load); call under <see cref="Use"/>.</summary>
    internal TKernels Kernels<TKernels>(Func<Accelerator, TKernels> create)
        where TKernels : class
    {
        if (!_kernels.TryGetValue(typeof(TKernels), out var kernels))
        {
            kernels = create(Accelerator);
            _kernels[typeof(TKernels)] = kernels;
        }

        return (TKernels)kernels;
    }

    private static ArrayView<T> Optional<T>(DeviceArena arena, string name, nint host, long rows)
        where T : unmanaged =>
        host == 0 ? ArrayView<T>.Empty : arena.Get<T>(name, rows);

    private static unsafe void Download<T>(AcceleratorStream stream, ArrayView<T> view, nint host, long count)
        where T : unmanaged
    {
        if (host != 0 && count > 0)
        {
            view.SubView(0, count).CopyToCPU(stream, ref *(T*)host, count);
        }
    }
}

/// <summary>Held while an accelerator is in use (<see cref="IlgpuBackend.Use"/>).</summary>
internal readonly ref struct GateScope(object gate)
{
    public void Dispose() => Monitor.Exit(gate);
}
