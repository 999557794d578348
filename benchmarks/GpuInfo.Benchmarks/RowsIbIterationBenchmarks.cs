using BenchmarkDotNet.Attributes;
using GpuInfo.Backends.Cpu.Blas;
using GpuInfo.Corpus;

namespace GpuInfo.Benchmarks;

/// <summary>
/// One Information Bottleneck iteration over rows of logits (issue 16) at the sizes: the
/// fused pass of <see cref="ConditionalIbProducts"/> (read each chunk, softmax, cross terms, encoder
/// update, decoder numerator), from float32 logits in memory (or the .npy in GPUINFO_IB_LOGITS_DIR
/// that benchmarks/peer/ib_peer.py --write made, ib_{rows}.npy, so that the peer and GpuInfo see the
/// same data). FLOPs per iteration: 4·rows·vocab·clusters (two products); GFLOP/s = that / mean.
/// </summary>
public class RowsIbIterationBenchmarks
{
    public const int Vocab = 50257;
    private InfoEngine _engine = null!;
    private RowSource _source = null!;
    private IbProblem _problem = null!;
    private double[] _logDecoder = [];
    private double[] _encoder = [];
    private double[] _numerator = [];
    private double[] _logQt = [];

    /// <summary>rows x clusters / products (the managed kernels only at the small size: minutes an iteration at the large).</summary>
    [Params("4096x64/blas", "4096x64/managed", "16384x256/blas")]
    public string Case { get; set; } = "4096x64/blas";

    private string Products => Case.Split('/')[1];

    private int Rows => int.Parse(Case.Split('/')[0].Split('x')[0], System.Globalization.CultureInfo.InvariantCulture);

    private int Clusters => int.Parse(Case.Split('/')[0].Split('x')[1], System.Globalization.CultureInfo.InvariantCulture);

    [GlobalSetup]
    public void Setup()
    {
        _engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        int rows = Rows, clusters = Clusters;
        string? dir = Environment.GetEnvironmentVariable("GPUINFO_IB_LOGITS_DIR");
        string file = dir is null ? string.Empty : Path.Combine(dir, $"ib_{rows}.npy");
        _source = File.Exists(file) ? RowSources.Open(file) : MemoryRowSource.Float32(Logits(rows, Vocab), Vocab);
        int workers = Environment.ProcessorCount;
        var sgemm = Sgemm.Create(workers, managedOnly: Products == "managed");
        _problem = ConditionalIbProducts.Problem(ConditionalRows.FromLogits(_source), sgemm, workers, chunkBytes: null, InfoEngineOptions.DefaultHostResidentBytes, CancellationToken.None);
        Console.WriteLine($"// products: {_problem.Products.Name}");
        var rng = new Random(1);
        _logDecoder = [.. Enumerable.Range(0, clusters * Vocab).Select(_ => Math.Log(rng.NextDouble() + 1e-9))];
        _encoder = new double[rows * clusters];
        _numerator = new double[clusters * Vocab];
        _logQt = Enumerable.Repeat(-Math.Log(clusters), clusters).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _problem.Dispose();
        _source.Dispose();
        _engine.Dispose();
    }

    [Benchmark]
    public double OneIteration()
    {
        int clusters = Clusters;
        var negHyx = _problem.NegativeConditionalEntropies;
        _problem.Products.Step(_logDecoder, clusters, _encoder, (first, rows, cross, encoder) =>
        {
            for (int i = 0; i < rows; i++)
            {
                var row = encoder.AsSpan((first + i) * clusters, clusters);
                double max = double.NegativeInfinity;
                for (int k = 0; k < clusters; k++)
                {
                    row[k] = _logQt[k] - 10 * (negHyx[first + i] - cross[i * clusters + k]);
                    max = Math.Max(max, row[k]);
                }

                double sum = 0;
                for (int k = 0; k < clusters; k++)
                {
                    row[k] = Math.Exp(row[k] - max);
                    sum += row[k];
                }

                for (int k = 0; k < clusters; k++)
                {
                    row[k] /= sum;
                }
            }
        }, _numerator);
        return _numerator[0];
    }

    private static float[] Logits(int rows, int vocab)
    {
        var values = new float[(long)rows * vocab];
        Parallel.For(0, rows, r =>
        {
            var rng = new Random(r);
            for (int j = 0; j < vocab; j++)
            {
                values[(long)r * vocab + j] = (float)(2 * (rng.NextDouble() + rng.NextDouble() + rng.NextDouble() - 1.5));
            }
        });
        return values;
    }
}
