using BenchmarkDotNet.Attributes;
using GpuInfo.Backends.Ilgpu;

namespace GpuInfo.Benchmarks;

/// <summary>
/// The heavy part of one Information Bottleneck iteration at the size (X=4096 contexts,
/// Y=50257 tokens, T=64 clusters): both matrix products, with the joint already resident (float64
/// on the CPU path: the system BLAS's dgemm, or the managed kernels as "cpu/managed"; the float32
/// tiled kernel on accelerators). The rest of an iteration is
/// O(X·T + T·Y).
/// </summary>
public class IbIterationBenchmarks
{
    public const int X = 4096, Y = 50257, T = 64;
    private InfoEngine _engine = null!;
    private IIbProducts _products = null!;
    private double[] _logDecoder = [];
    private double[] _encoderT = [];
    private double[] _cross = [];
    private double[] _numerator = [];

    [ParamsSource(nameof(Devices))]
    public string Device { get; set; } = "cpu";

    /// <summary>The devices, and the CPU's managed products beside its system BLAS ("cpu/managed").</summary>
    public static IEnumerable<string> Devices() => RowMeasureBenchmarks.Devices().Where(d => d != "ilgpu-cpu").Append("cpu/managed");

    [GlobalSetup]
    public void Setup()
    {
        _engine = new InfoEngine(new InfoEngineOptions { Device = Device.Split('/')[0] });
        var joint = SyntheticJoint(X, Y);
        _products = _engine.Backend is IlgpuBackend gpu ? new IlgpuIbProducts(gpu, joint) : new CpuIbProducts(joint, managedOnly: Device == "cpu/managed");
        Console.WriteLine($"// products: {_products.Name}");
        var rng = new Random(1);
        _logDecoder = [.. Enumerable.Range(0, T * Y).Select(_ => Math.Log(rng.NextDouble() + 1e-9))];
        _encoderT = [.. Enumerable.Range(0, T * X).Select(_ => rng.NextDouble() / T)];
        _cross = new double[X * T];
        _numerator = new double[T * Y];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _products.Dispose();
        _engine.Dispose();
    }

    [Benchmark]
    public double OneIterationProducts()
    {
        _products.DecoderNumerator(_encoderT, T, _numerator);
        _products.CrossTerms(_logDecoder, T, _cross);
        return _cross[0] + _numerator[0];
    }

    /// <summary>Contexts that each favour a few hundred of the tokens, with a long tail.</summary>
    public static JointDistribution SyntheticJoint(int x, int y)
    {
        var w = new double[x, y];
        Parallel.For(0, x, i =>
        {
            var rng = new Random(i);
            for (int j = 0; j < y; j++)
            {
                w[i, j] = rng.NextDouble() < 0.005 ? 1 + rng.NextDouble() : 1e-4 * rng.NextDouble();
            }
        });
        return JointDistribution.FromWeights(w);
    }
}
