using System.Buffers;
using GpuInfo.Backends;
using GpuInfo.Kernels;

namespace GpuInfo;

/// <summary>
/// The entry point: picks a device at construction (CUDA, then OpenCL, then SIMD CPU; see
/// <see cref="Device"/> for what it chose and why) and computes every measure there.
/// </summary>
/// <remarks>
/// Thread safety: every method may be called from several threads. The SIMD CPU path runs calls
/// concurrently; an accelerator's calls are serialised (they share one set of device buffers and
/// streams), so use one engine per thread to run several streams of work on one GPU. Outputs are
/// caller-owned spans; when a call throws, their contents are unspecified.
/// </remarks>
public sealed partial class InfoEngine : IDisposable
{
    private readonly IRowBackend _backend;
    private readonly object _lifetime = new();
    private int _inFlight;
    private volatile bool _disposed;

    public InfoEngine()
        : this(new InfoEngineOptions())
    {
    }

    /// <exception cref="DeviceUnavailableException">The requested device is absent or unusable.</exception>
    /// <exception cref="ArgumentException">The device request cannot be parsed.</exception>
    public InfoEngine(InfoEngineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        (_backend, Device) = DeviceSelector.Select(DeviceRequest.Resolve(options.Device), options);
        IbResidentBytes = options.IbResidentBytes;
    }

    /// <summary>The device in use, the request that led to it, and why other devices were skipped.</summary>
    public DeviceReport Device { get; }

    internal IRowBackend Backend => _backend;

    /// <summary>
    /// The bytes of each source's rows a corpus run reads per chunk unless told otherwise
    /// (<see cref="Corpus.CorpusRunOptions.ChunkBytes"/>). On the SIMD CPU path, 4 MiB per thread, from
    /// 8 to 64 MiB: a chunk read into memory just before it is measured is then still in the caches
    /// when the measures read it, where a 64 MiB one is read from memory twice (on 2 cores, eval of
    /// an 823 MB file took 0.35-0.38 s in 4-8 MiB chunks and 0.71-0.76 s in 64 MiB ones). On an
    /// accelerator, 64 MiB: its rows cross the bus in large copies.
    /// </summary>
    public long CorpusChunkBytesPerSource => _backend is Backends.Cpu.SimdCpuBackend cpu
        ? Math.Clamp((4L << 20) * cpu.Workers, 8L << 20, 64L << 20)
        : 64L << 20;

    /// <summary>Every ILGPU accelerator on this machine and whether GpuInfo can use it.</summary>
    public static IReadOnlyList<DeviceCandidate> ProbeDevices() => DeviceSelector.Probe();

    /// <summary>
    /// Releases the device. Safe at any moment from any thread: calls in flight either complete or,
    /// for long calls (IB, curves), stop at their next iteration with <see cref="ObjectDisposedException"/>;
    /// Dispose waits for them before freeing the device, and every later call throws that exception.
    /// </summary>
    public void Dispose()
    {
        lock (_lifetime)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            while (_inFlight > 0)
            {
                Monitor.Wait(_lifetime);
            }
        }

        _backend.Dispose();
    }

    /// <summary>Marks a call in flight until the lease is disposed, so that Dispose waits for it.</summary>
    /// <exception cref="ObjectDisposedException">The engine was disposed.</exception>
    internal Lease Use()
    {
        lock (_lifetime)
        {
            ThrowIfDisposed();
            _inFlight++;
        }

        return new Lease(this);
    }

    /// <exception cref="ObjectDisposedException">The engine was disposed (or is being disposed).</exception>
    internal void ThrowIfDisposed()
    {
        if (_disposed)
        {
            throw new ObjectDisposedException(nameof(InfoEngine), $"This {nameof(InfoEngine)} ({Device.Kind}: {Device.Name}) was disposed.");
        }
    }

    private void Release()
    {
        lock (_lifetime)
        {
            if (--_inFlight == 0)
            {
                Monitor.PulseAll(_lifetime);
            }
        }
    }

    /// <summary>
    /// Runs one single-input pass and validates every row. Outputs left empty are not computed,
    /// except the log-sum-exp, which is needed to validate rows and is pooled when not asked for.
    /// </summary>
    private unsafe void ScoreCore(in Logits logits, ReadOnlySpan<int> targets, in CrossEntropyParams ce,
        float[]? weights, ScoreSpans spans, float temperature)
    {
        using var lease = Use();
        int rows = checked((int)logits.Rows);
        float[]? lseRent = spans.Lse.IsEmpty ? ArrayPool<float>.Shared.Rent(Math.Max(1, rows)) : null;
        var lse = lseRent is null ? spans.Lse : lseRent.AsSpan(0, rows);
        fixed (byte* data = &logits.Start)
        fixed (int* t = targets)
        fixed (float* w = weights)
        fixed (float* l = lse)
        fixed (float* h = spans.Entropy)
        fixed (float* loss = spans.Loss)
        fixed (int* a = spans.ArgMax)
        fixed (float* c = spans.Confidence)
        fixed (float* b = spans.Brier)
        fixed (float* g = spans.Gradient)
        {
            var view = logits.Pin(data);
            var job = new ScoreJob
            {
                Logits = view,
                Targets = (nint)t,
                Weights = (nint)w,
                Ce = ce,
                Lse = (nint)l,
                Entropy = (nint)h,
                Loss = (nint)loss,
                ArgMax = (nint)a,
                Confidence = (nint)c,
                Brier = (nint)b,
                Gradient = spans.GradientInPlace ? (nint)data : (nint)g,
            };
            try
            {
                if (rows > 0)
                {
                    RunOnDevice(() => _backend.Score(job));
                }

                RowValidator.ThrowIfInvalid(lse, view, temperature, "logits");
                if (job.Gradient != 0)
                {
                    RowValidator.ThrowIfGradientOverflows(lse, targets, ce, weights, temperature);
                }
            }
            finally
            {
                if (lseRent is not null)
                {
                    ArrayPool<float>.Shared.Return(lseRent);
                }
            }
        }
    }

    /// <summary>Runs one two-input pass and validates every row of both inputs.</summary>
    private unsafe void CompareCore(in Logits p, in Logits q, ReadOnlySpan<int> targets, float temperature, CompareSpans spans,
        string pName = "p", string qName = "q")
    {
        using var lease = Use();
        Guard.Temperature(temperature);
        Guard.SameShape(p, q);
        int rows = checked((int)p.Rows);
        var rent = ArrayPool<float>.Shared.Rent(Math.Max(1, 2 * rows));
        var lseP = rent.AsSpan(0, rows);
        var lseQ = rent.AsSpan(rows, rows);
        fixed (byte* dp = &p.Start)
        fixed (byte* dq = &q.Start)
        fixed (int* t = targets)
        fixed (float* lp = lseP)
        fixed (float* lq = lseQ)
        fixed (float* kl = spans.KlForward)
        fixed (float* rkl = spans.KlReverse)
        fixed (float* js = spans.JensenShannon)
        fixed (float* tv = spans.TotalVariation)
        fixed (float* h = spans.EntropyP)
        fixed (int* ap = spans.ArgMaxP)
        fixed (int* aq = spans.ArgMaxQ)
        fixed (float* cp = spans.ConfidenceP)
        fixed (float* cq = spans.ConfidenceQ)
        fixed (float* np = spans.NllP)
        fixed (float* nq = spans.NllQ)
        fixed (float* lr = spans.LogRatio)
        fixed (float* bp = spans.BrierP)
        fixed (float* bq = spans.BrierQ)
        {
            var viewP = p.Pin(dp);
            var viewQ = q.Pin(dq);
            var job = new CompareJob
            {
                P = viewP,
                Q = viewQ,
                Targets = (nint)t,
                IgnoreIndex = TargetValidator.Ignored,
                InvTemperature = 1f / temperature,
                LseP = (nint)lp,
                LseQ = (nint)lq,
                KlForward = (nint)kl,
                KlReverse = (nint)rkl,
                JensenShannon = (nint)js,
                TotalVariation = (nint)tv,
                EntropyP = (nint)h,
                ArgMaxP = (nint)ap,
                ArgMaxQ = (nint)aq,
                ConfidenceP = (nint)cp,
                ConfidenceQ = (nint)cq,
                NllP = (nint)np,
                NllQ = (nint)nq,
                LogRatio = (nint)lr,
                BrierP = (nint)bp,
                BrierQ = (nint)bq,
            };
            try
            {
                if (rows > 0)
                {
                    RunOnDevice(() => _backend.Compare(job));
                }

                RowValidator.ThrowIfInvalid(lseP, viewP, temperature, pName);
                RowValidator.ThrowIfInvalid(lseQ, viewQ, temperature, qName);
                RecomputeInFloat64(viewP, viewQ, targets, temperature, spans, lseP, lseQ);
            }
            finally
            {
                ArrayPool<float>.Shared.Return(rent);
            }
        }
    }

    /// <summary>
    /// Beyond this difference of the two rows' log-sum-exps the pass's float32 differences of their
    /// logits lose more than 6e-5 an entry (their rounding grows with the offset: a row shifted by 1e6
    /// read KL 0 for 2.3e-4).
    /// </summary>
    private const float FarApartLse = 1024f;

    /// <summary>
    /// Rows the float32 pass cannot form are recomputed in float64 (<see cref="Float64PairRow"/>): two
    /// valid rows whose log-sum-exps lie more than <see cref="FarApartLse"/> apart (logits offset by a
    /// huge constant, or near ±3.4e38, where a difference overflowed to NaN and stopped `compare`), and
    /// any row the pass gave NaN. Ordinary data has none, so this costs one scan of the outputs.
    /// </summary>
    private static void RecomputeInFloat64(in RowsView p, in RowsView q, ReadOnlySpan<int> targets, float temperature, CompareSpans spans,
        ReadOnlySpan<float> lseP, ReadOnlySpan<float> lseQ)
    {
        var rows = new List<int>();
        var rowTargets = new List<int>();
        for (int i = 0; i < lseP.Length; i++)
        {
            bool scored = !targets.IsEmpty && targets[i] >= 0;
            if (Math.Abs(lseP[i] - lseQ[i]) > FarApartLse
                || IsNaN(spans.KlForward, i) || IsNaN(spans.KlReverse, i) || IsNaN(spans.JensenShannon, i) || IsNaN(spans.TotalVariation, i) || IsNaN(spans.EntropyP, i)
                || (scored && (IsNaN(spans.NllP, i) || IsNaN(spans.NllQ, i) || IsNaN(spans.LogRatio, i))))
            {
                rows.Add(i);
                rowTargets.Add(scored ? targets[i] : -1);
            }
        }

        if (rows.Count == 0)
        {
            return;
        }

        // Every row of a chunk can be here (logits offset by 20 at T = 0.01 are 2000 apart): in parallel.
        var results = new (double Kl, double ReverseKl, double Js, double Tv, double EntropyP, double NllP, double NllQ, double LogRatio)[rows.Count];
        var (viewP, viewQ) = (p, q);
        Parallel.For(0, rows.Count, k =>
            results[k] = Float64PairRow.Compute(Float64PairRow.Load(viewP, rows[k]), Float64PairRow.Load(viewQ, rows[k]), temperature, rowTargets[k]));
        for (int k = 0; k < rows.Count; k++)
        {
            int i = rows[k];
            var r = results[k];
            Set(spans.KlForward, i, r.Kl);
            Set(spans.KlReverse, i, r.ReverseKl);
            Set(spans.JensenShannon, i, r.Js);
            Set(spans.TotalVariation, i, r.Tv);
            Set(spans.EntropyP, i, r.EntropyP);
            if (rowTargets[k] >= 0)
            {
                Set(spans.NllP, i, r.NllP);
                Set(spans.NllQ, i, r.NllQ);
                Set(spans.LogRatio, i, r.LogRatio);
            }
        }

        static bool IsNaN(Span<float> values, int i) => !values.IsEmpty && float.IsNaN(values[i]);

        static void Set(Span<float> values, int i, double value)
        {
            if (!values.IsEmpty)
            {
                values[i] = (float)value;
            }
        }
    }

    /// <summary>Device failures (out of memory, a lost device) become <see cref="DeviceUnavailableException"/>.</summary>
    private void RunOnDevice(Action work)
    {
        try
        {
            work();
        }
        catch (Exception e) when (Device.Kind != DeviceKind.Cpu && e is ILGPU.Runtime.AcceleratorException or OutOfMemoryException)
        {
            throw new DeviceUnavailableException($"{Device.Name} failed: {e.Message}", e);
        }
    }

    private static CrossEntropyParams Params(int vocab, float temperature) => new()
    {
        Vocab = vocab,
        IgnoreIndex = TargetValidator.Ignored,
        InvTemperature = 1f / temperature,
        WeightSum = vocab,
        GradientScale = 1f,
    };

    /// <summary>A call in flight; disposing it lets a waiting <see cref="Dispose"/> proceed.</summary>
    internal readonly struct Lease(InfoEngine engine) : IDisposable
    {
        public void Dispose() => engine.Release();
    }

    /// <summary>Optional per-row outputs of a single-input pass.</summary>
    private ref struct ScoreSpans
    {
        public Span<float> Lse;
        public Span<float> Entropy;
        public Span<float> Loss;
        public Span<int> ArgMax;
        public Span<float> Confidence;
        public Span<float> Brier;
        public Span<float> Gradient;
        public bool GradientInPlace;
    }

    /// <summary>Optional per-row outputs of a two-input pass.</summary>
    private ref struct CompareSpans
    {
        public Span<float> KlForward;
        public Span<float> KlReverse;
        public Span<float> JensenShannon;
        public Span<float> TotalVariation;
        public Span<float> EntropyP;
        public Span<int> ArgMaxP;
        public Span<int> ArgMaxQ;
        public Span<float> NllP;
        public Span<float> NllQ;
        public Span<float> LogRatio;

        /// <summary>Each input's top-1 confidence, the argmax's probability from the pass (both or neither).</summary>
        public Span<float> ConfidenceP;
        public Span<float> ConfidenceQ;

        /// <summary>Each input's Brier score against the target (needs targets; both or neither).</summary>
        public Span<float> BrierP;
        public Span<float> BrierQ;
    }
}
