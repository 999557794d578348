using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using GpuInfo.Backends;
using GpuInfo.Backends.Cpu;
using GpuInfo.Backends.Ilgpu;
using GpuInfo.Kernels;
using GpuInfo.Samples;

namespace GpuInfo.Benchmarking;

/// <summary>
/// Times every row-wise measure on an engine's device with data already there (uploaded once to an
/// accelerator), against a plain read of the same bytes, and checks each result before it is
/// reported: against float64 on sampled rows for the CPU path, against the SIMD CPU path on every
/// row for accelerators.
/// </summary>
public static class AcceleratorBenchmark
{
    /// <summary>Relative error above which a result is refused (the kernels sit near 1e-6).</summary>
    public const double MaxAcceptedError = 1e-3;

    /// <summary>
    /// The ops timed: single measures, then the two fused passes a corpus run makes per chunk:
    /// "evaluate" (eval's: loss, entropy, argmax, confidence and Brier score of each row) and
    /// "compare" (compare's with targets: KL both ways, JS, TV, entropy, both argmaxes, confidences,
    /// NLLs and Brier scores, and the log ratio).
    /// </summary>
    public static readonly IReadOnlyList<string> Ops = ["log-sum-exp", "cross-entropy", "cross-entropy+grad", "entropy", "kl", "js", "evaluate", "compare"];

    /// <exception cref="InvalidOperationException">A result failed verification.</exception>
    public static unsafe BenchmarkReport Run(InfoEngine engine, SampleLogits data, ScalarType dtype, int warmups = 2, int repeats = 10)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(data);
        if (!Enum.IsDefined(dtype))
        {
            throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "not a ScalarType.");
        }

        var timing = (IKernelTiming)engine.Backend;
        int rows = data.Rows, vocab = data.Vocab;

        // float32 is benchmarked in place; a 16-bit type gets one converted copy of each input (the
        // values the ops see, and the verification's). At 4096 x 128256 in bf16 the run held 18.5 GB
        // with float32 copies of the converted inputs beside them.
        byte[]? pEncoded = dtype == ScalarType.Float32 ? null : Encode(data.Base, vocab, dtype);
        byte[]? qEncoded = dtype == ScalarType.Float32 ? null : Encode(data.Test, vocab, dtype);
        var outs = new Outputs(rows, vocab);
        fixed (byte* pp = pEncoded ?? MemoryMarshal.AsBytes(data.Base.AsSpan()))
        fixed (byte* qp = qEncoded ?? MemoryMarshal.AsBytes(data.Test.AsSpan()))
        fixed (int* tp = data.Targets)
        fixed (float* lse = outs.Lse, lse2 = outs.Lse2, loss = outs.Loss, entropy = outs.Entropy, grad = outs.Gradient, kl = outs.Kl, js = outs.Js)
        fixed (float* reverse = outs.ReverseKl, confidence = outs.Confidence, confidence2 = outs.Confidence2, brier = outs.Brier, brier2 = outs.Brier2)
        fixed (float* nll2 = outs.Nll2, ratio = outs.LogRatio, tv = outs.Tv)
        fixed (int* argmax = outs.ArgMax, argmax2 = outs.ArgMax2)
        {
            var p = new RowsView((nint)pp, rows, vocab, dtype);
            var q = new RowsView((nint)qp, rows, vocab, dtype);
            long inputBytes = rows * p.RowBytes;
            double read = Median(timing.TimeRead(p, warmups, repeats));
            double? copy = timing is IlgpuBackend gpu ? Median(gpu.TimeCopy(p, warmups, repeats)) : null;
            double readGbps = inputBytes / read / 1e9;
            var ce = new CrossEntropyParams { Vocab = vocab, IgnoreIndex = TargetValidator.Ignored, InvTemperature = 1, WeightSum = vocab, GradientScale = 1f / rows };
            var single = new ScoreJob { Logits = p, Ce = ce, Lse = (nint)lse };
            var pair = new CompareJob { P = p, Q = q, InvTemperature = 1, IgnoreIndex = TargetValidator.Ignored, LseP = (nint)lse, LseQ = (nint)lse2 };
            var ceJob = single with { Targets = (nint)tp, Loss = (nint)loss };
            var gradJob = ceJob with { Gradient = (nint)grad };
            var entropyJob = single with { Entropy = (nint)entropy };
            var klJob = pair with { KlForward = (nint)kl };
            var jsJob = pair with { JensenShannon = (nint)js };
            var evaluateJob = ceJob with { Entropy = (nint)entropy, ArgMax = (nint)argmax, Confidence = (nint)confidence, Brier = (nint)brier };
            var compareJob = pair with
            {
                Targets = (nint)tp, KlForward = (nint)kl, KlReverse = (nint)reverse, JensenShannon = (nint)js, TotalVariation = (nint)tv, EntropyP = (nint)entropy,
                ArgMaxP = (nint)argmax, ArgMaxQ = (nint)argmax2, ConfidenceP = (nint)confidence, ConfidenceQ = (nint)confidence2,
                NllP = (nint)loss, NllQ = (nint)nll2, LogRatio = (nint)ratio, BrierP = (nint)brier, BrierQ = (nint)brier2,
            };
            var jobs = new (string Op, Func<double[]> Run, long Bytes)[]
            {
                ("log-sum-exp", () => timing.TimeScore(single, warmups, repeats), inputBytes),
                ("cross-entropy", () => timing.TimeScore(ceJob, warmups, repeats), inputBytes),
                ("cross-entropy+grad", () => timing.TimeScore(gradJob, warmups, repeats), inputBytes + rows * 4L * vocab),
                ("entropy", () => timing.TimeScore(entropyJob, warmups, repeats), inputBytes),
                ("kl", () => timing.TimeCompare(klJob, warmups, repeats), 2 * inputBytes),
                ("js", () => timing.TimeCompare(jsJob, warmups, repeats), 2 * inputBytes),
                ("evaluate", () => timing.TimeScore(evaluateJob, warmups, repeats), inputBytes),
                ("compare", () => timing.TimeCompare(compareJob, warmups, repeats), 2 * inputBytes),
            };
            var verify = engine.Device.Kind == DeviceKind.Cpu
                ? new Verifier(p, q, data.Targets)
                : new Verifier(p, q, data.Targets, ReferenceRun(p, q, data.Targets));
            var ops = new List<BenchmarkOp>();
            foreach (var (op, run, bytes) in jobs)
            {
                double seconds = Median(run());
                double error = verify.Check(op, outs);
                if (!(error <= MaxAcceptedError))
                {
                    throw new InvalidOperationException($"{op} on {engine.Device.Name} failed verification: relative error {error:E2} > {MaxAcceptedError:E0}; not reported.");
                }

                double gbps = bytes / seconds / 1e9;
                ops.Add(new BenchmarkOp(op, seconds * 1e3, gbps, gbps / readGbps, bytes, error));
            }

            return new BenchmarkReport(engine.Device, rows, vocab, dtype, readGbps, copy is double c ? 2 * inputBytes / c / 1e9 : null, verify.Description, ops);
        }
    }

    public static double Median(double[] values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }

    /// <summary>Each row of <paramref name="x"/> converted to fp16 or bf16 (round to nearest even), rows in parallel.</summary>
    private static byte[] Encode(float[] x, int vocab, ScalarType type)
    {
        var bytes = new byte[x.LongLength * 2];
        Parallel.For(0, x.Length / vocab, r =>
        {
            var source = x.AsSpan(r * vocab, vocab);
            var destination = MemoryMarshal.Cast<byte, ushort>(bytes.AsSpan()).Slice(r * vocab, vocab);
            if (type == ScalarType.Float16)
            {
                TensorPrimitives.ConvertToHalf(source, MemoryMarshal.Cast<ushort, Half>(destination));
                return;
            }

            for (int j = 0; j < vocab; j++)
            {
                destination[j] = BFloat16Bits.FromSingle(source[j]);
            }
        });
        return bytes;
    }

    /// <summary>Every measure on the SIMD CPU path, the reference for accelerators.</summary>
    private static unsafe Outputs ReferenceRun(RowsView p, RowsView q, int[] targets)
    {
        using var cpu = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        var o = new Outputs((int)p.Rows, p.Vocab);
        var lp = Logits.FromPointer((void*)p.Data, p.Rows, p.Vocab, p.Type);
        var lq = Logits.FromPointer((void*)q.Data, q.Rows, q.Vocab, q.Type);
        cpu.LogSumExp(lp, o.Lse);
        cpu.Entropy(lp, o.Entropy);
        cpu.CrossEntropyWithGradient(lp, targets, o.Gradient, null, o.Loss);
        cpu.KlDivergence(lp, lq, o.Kl);
        cpu.JensenShannon(lp, lq, o.Js);
        cpu.Evaluate(lp, targets, new PerplexityAccumulator(), perRow: new EvaluationRows { Brier = o.Brier });
        cpu.Compare(lp, lq, new ComparisonAccumulator(), perRow: new ComparisonRows { ReverseKl = o.ReverseKl, TotalVariation = o.Tv });
        return o;
    }

    private sealed class Outputs(int rows, int vocab)
    {
        public float[] Lse { get; } = new float[rows];

        public float[] Lse2 { get; } = new float[rows];

        public float[] Loss { get; } = new float[rows];

        public float[] Entropy { get; } = new float[rows];

        public float[] Gradient { get; } = new float[(long)rows * vocab];

        public float[] Kl { get; } = new float[rows];

        public float[] Js { get; } = new float[rows];

        public float[] ReverseKl { get; } = new float[rows];

        public float[] Tv { get; } = new float[rows];

        public float[] Confidence { get; } = new float[rows];

        public float[] Confidence2 { get; } = new float[rows];

        public float[] Brier { get; } = new float[rows];

        public float[] Brier2 { get; } = new float[rows];

        public float[] Nll2 { get; } = new float[rows];

        public float[] LogRatio { get; } = new float[rows];

        public int[] ArgMax { get; } = new int[rows];

        public int[] ArgMax2 { get; } = new int[rows];
    }

    /// <summary>Checks one op's outputs: against float64 on up to 16 sampled rows, or against a reference run on all rows.</summary>
    private sealed class Verifier(RowsView p, RowsView q, int[] targets, Outputs? reference = null)
    {
        private readonly float[] _p = new float[p.Vocab];
        private readonly float[] _q = new float[p.Vocab];

        public string Description => reference is null
            ? "float64 on 16 sampled rows"
            : "SIMD CPU path on every row";

        public double Check(string op, Outputs o)
        {
            int rows = o.Lse.Length;
            var sample = reference is null
                ? Enumerable.Range(0, 16).Select(i => (int)((long)i * (rows - 1) / 15)).Distinct()
                : Enumerable.Range(0, rows);
            double worst = 0;
            foreach (int r in sample)
            {
                // Rows are decoded only for the float64 check; a reference run needs none.
                ReadOnlySpan<float> x = reference is null ? Decoded(p, r, _p) : default;
                double expected, actual;
                switch (op)
                {
                    case "log-sum-exp":
                        (expected, actual) = (reference?.Lse[r] ?? Float64Check.Row(x).Lse, o.Lse[r]);
                        break;
                    case "entropy":
                        (expected, actual) = (reference?.Entropy[r] ?? Float64Check.Row(x).Entropy, o.Entropy[r]);
                        break;
                    case "cross-entropy":
                    case "cross-entropy+grad":
                        (expected, actual) = (reference?.Loss[r] ?? Float64Check.Row(x).Lse - x[targets[r]], o.Loss[r]);
                        if (op == "cross-entropy+grad")
                        {
                            worst = Math.Max(worst, GradientError(r, o, x));
                        }

                        break;
                    case "kl":
                        (expected, actual) = (reference?.Kl[r] ?? Float64Check.Pair(x, Decoded(q, r, _q)).Kl, o.Kl[r]);
                        break;
                    case "evaluate":
                        // The loss and the entropy as their own ops check them; here the Brier score, which only this pass forms.
                        (expected, actual) = (reference?.Brier[r] ?? Float64Check.Brier(x, targets[r]), o.Brier[r]);
                        worst = Math.Max(worst, Float64Check.RelativeError(reference?.Loss[r] ?? Float64Check.Row(x).Lse - x[targets[r]], o.Loss[r], 1e-3));
                        break;
                    case "compare":
                        // KL(base||test) and JS as their own ops check them; here the reverse KL and TV, which those leave out.
                        (expected, actual) = (reference?.ReverseKl[r] ?? Float64Check.Pair(Decoded(q, r, _q), x).Kl, o.ReverseKl[r]);
                        worst = Math.Max(worst, Float64Check.RelativeError(reference?.Kl[r] ?? Float64Check.Pair(x, Decoded(q, r, _q)).Kl, o.Kl[r], 1e-3));
                        worst = Math.Max(worst, Float64Check.RelativeError(reference?.Tv[r] ?? Float64Check.Pair(x, Decoded(q, r, _q)).Tv, o.Tv[r], 1e-3));
                        break;
                    default:
                        (expected, actual) = (reference?.Js[r] ?? Float64Check.Pair(x, Decoded(q, r, _q)).Js, o.Js[r]);
                        break;
                }

                worst = Math.Max(worst, Float64Check.RelativeError(expected, actual, 1e-3));
            }

            return worst;
        }

        private static float[] Decoded(RowsView view, int row, float[] buffer)
        {
            BlockLoader.LoadRow(view, row, buffer);
            return buffer;
        }

        private double GradientError(int r, Outputs o, ReadOnlySpan<float> x)
        {
            int rows = o.Lse.Length;
            var g = o.Gradient.AsSpan(r * p.Vocab, p.Vocab);
            double lse = reference is null ? Float64Check.Row(x).Lse : 0, worst = 0;
            for (int k = 0; k < p.Vocab; k++)
            {
                double expected = reference?.Gradient[(long)r * p.Vocab + k] ?? (Math.Exp(x[k] - lse) - (k == targets[r] ? 1 : 0)) / rows;
                worst = Math.Max(worst, Math.Abs(g[k] - expected) * rows);
            }

            return worst;
        }
    }
}
