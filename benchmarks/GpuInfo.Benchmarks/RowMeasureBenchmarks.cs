using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using GpuInfo.Samples;

namespace GpuInfo.Benchmarks;

/// <summary>
/// Every row-wise measure through the facade, per device, shape and dtype, with host data (transfers
/// to an accelerator included; `gpuinfo bench` times kernels on device-resident data). ReadBaseline is
/// a plain parallel read of the same bytes, in the same run, to compare GB/s against.
/// </summary>
public class RowMeasureBenchmarks
{
    private InfoEngine _engine = null!;
    private byte[] _p = [];
    private byte[] _q = [];
    private int[] _targets = [];
    private float[] _perRow = [];
    private float[] _gradient = [];
    private int _rows;
    private int _vocab;

    /// <summary>cpu, ilgpu-cpu (small shapes only: it simulates a GPU), and cuda/opencl when this machine has them (or GPUINFO_BENCH_DEVICES).</summary>
    [ParamsSource(nameof(Devices))]
    public string Device { get; set; } = "cpu";

    [Params("512x50257", "64x128256", "8x256000")]
    public string Shape { get; set; } = "512x50257";

    [Params(ScalarType.Float32, ScalarType.BFloat16)]
    public ScalarType DType { get; set; }

    public static IEnumerable<string> Devices()
    {
        // GPUINFO_BENCH_DEVICES=cpu,cuda limits the suite to those devices.
        if (Environment.GetEnvironmentVariable("GPUINFO_BENCH_DEVICES") is { Length: > 0 } only)
        {
            foreach (var device in only.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                yield return device;
            }

            yield break;
        }

        yield return "cpu";
        foreach (var kind in InfoEngine.ProbeDevices().Where(d => d.Usable).Select(d => d.Kind).Distinct())
        {
            yield return kind switch { DeviceKind.Cuda => "cuda", DeviceKind.OpenCL => "opencl", _ => "ilgpu-cpu" };
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        (_rows, _vocab) = Parse(Shape, Device);

        _engine = new InfoEngine(new InfoEngineOptions { Device = Device });
        var sample = SampleLogits.Create(_rows, _vocab);
        _p = Encode(sample.Base);
        _q = Encode(sample.Test);
        _targets = sample.Targets;
        _perRow = new float[_rows];
        _gradient = new float[(long)_rows * _vocab];
        LogSumExp();
    }

    [GlobalCleanup]
    public void Cleanup() => _engine.Dispose();

    [Benchmark(Baseline = true)]
    public float ReadBaseline()
    {
        var floats = MemoryMarshal.Cast<byte, float>(_p.AsSpan());
        int chunks = Environment.ProcessorCount * 4, size = (floats.Length + chunks - 1) / chunks;
        var sums = new float[chunks];
        var p = _p;
        Parallel.For(0, chunks, c =>
        {
            var all = MemoryMarshal.Cast<byte, float>(p.AsSpan());
            int start = c * size;
            sums[c] = start < all.Length ? TensorPrimitives.Sum(all.Slice(start, Math.Min(size, all.Length - start))) : 0f;
        });
        return sums.Sum();
    }

    [Benchmark]
    public float LogSumExp()
    {
        _engine.LogSumExp(View(_p), _perRow);
        return _perRow[0];
    }

    [Benchmark]
    public double CrossEntropy() => _engine.CrossEntropy(View(_p), _targets, null, _perRow).Loss;

    [Benchmark]
    public double CrossEntropyWithGradient() => _engine.CrossEntropyWithGradient(View(_p), _targets, _gradient).Loss;

    [Benchmark]
    public float Entropy()
    {
        _engine.Entropy(View(_p), _perRow);
        return _perRow[0];
    }

    [Benchmark]
    public float Kl()
    {
        _engine.KlDivergence(View(_p), View(_q), _perRow);
        return _perRow[0];
    }

    [Benchmark]
    public float JensenShannon()
    {
        _engine.JensenShannon(View(_p), View(_q), _perRow);
        return _perRow[0];
    }

    /// <summary>Bytes a measure must move once: its logits (both inputs for pairs) and a written gradient.</summary>
    public static long BytesOf(string method, string shape, ScalarType dtype, string device)
    {
        var (rows, vocab) = Parse(shape, device);
        long input = (long)rows * vocab * (dtype == ScalarType.Float32 ? 4 : 2);
        return method switch
        {
            nameof(Kl) or nameof(JensenShannon) => 2 * input,
            nameof(CrossEntropyWithGradient) => input + (long)rows * vocab * 4,
            nameof(ReadBaseline) => (long)rows * vocab * (dtype == ScalarType.Float32 ? 4 : 2),
            _ => input,
        };
    }

    /// <summary>The shape a device runs: ILGPU's CPU accelerator simulates a GPU thread by thread, so it gets 1/64 of the rows.</summary>
    private static (int Rows, int Vocab) Parse(string shape, string device)
    {
        var parts = shape.Split('x');
        int rows = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
        int vocab = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        return (device == "ilgpu-cpu" ? Math.Max(1, rows / 64) : rows, vocab);
    }

    private byte[] Encode(float[] x) => DType == ScalarType.Float32
        ? MemoryMarshal.AsBytes(x.AsSpan()).ToArray()
        : MemoryMarshal.AsBytes(x.Select(BFloat16Bits.FromSingle).ToArray().AsSpan()).ToArray();

    private Logits View(byte[] data) => DType == ScalarType.Float32
        ? Logits.Float32(MemoryMarshal.Cast<byte, float>(data.AsSpan()), _vocab)
        : Logits.BFloat16(MemoryMarshal.Cast<byte, ushort>(data.AsSpan()), _vocab);
}
