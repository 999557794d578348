using BenchmarkDotNet.Attributes;

namespace GpuInfo.Benchmarks;

/// <summary>
/// The IB solver's host work at issue 16's larger size (16384 contexts, 256 clusters, vocab 50257),
/// with products that only copy precomputed results: the encoder update, marginals, entropies, log
/// decoders, I(T;Y) and the final report, i.e. what runs on the host beside a GPU's products each
/// iteration. One solve of <see cref="Iterations"/> iterations (plus its preparation and report:
/// the difference between the two sizes over 8 is the cost of an iteration); the products' copies (the cross terms and a [256, 50257] numerator, as a device's products copy
/// them back) are part of it. <see cref="DeviceDecoder"/>: the decoder kept where the products are,
/// as on a GPU (<c>IlgpuIbDecoder</c>): the host then computes no log-decoder or I(T;Y) and copies
/// the numerator back once, for the report.
/// </summary>
public class IbSolverHostBenchmarks
{
    private const int Contexts = 16384;
    private const int Clusters = 256;
    private const int Vocab = 50257;
    private IbProblem _problem = null!;

    [Params(2, 10)]
    public int Iterations { get; set; }

    [Params(false, true)]
    public bool DeviceDecoder { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(3);
        var (even, odd) = (new double[Contexts * Clusters], new double[Contexts * Clusters]);
        for (int i = 0; i < even.Length; i++)
        {
            even[i] = -6 - (3 * rng.NextDouble());
            odd[i] = -6 - (3 * rng.NextDouble());
        }

        var numerator = new double[(long)Clusters * Vocab];
        for (int i = 0; i < numerator.Length; i++)
        {
            numerator[i] = rng.NextDouble() / ((double)Clusters * Vocab / 2);
        }

        var py = new double[Vocab];
        for (int k = 0; k < Clusters; k++)
        {
            for (int j = 0; j < Vocab; j++)
            {
                py[j] += numerator[(long)k * Vocab + j];
            }
        }

        var negHyx = Enumerable.Repeat(-5.0, Contexts).ToArray();
        var px = Enumerable.Repeat(1.0 / Contexts, Contexts).ToArray();
        _problem = new IbProblem(px, py, negHyx, 1.0, new CopiedProducts(even, odd, numerator, DeviceDecoder));
    }

    [Benchmark]
    public double Solve() =>
        InformationBottleneck.Solve(_problem, new IbOptions { Beta = 10, Clusters = Clusters, Restarts = 1, Seed = 1, MaxIterations = Iterations, Tolerance = 0 }).Objective;

    /// <summary>
    /// Products that hand back fixed results, so that only the solver's own work is timed; the cross
    /// terms alternate between two sets so that the encoder keeps moving (no early convergence).
    /// </summary>
    private sealed class CopiedProducts(double[] even, double[] odd, double[] numerator, bool deviceDecoder) : IIbProducts
    {
        private int _calls;

        public string Name => "copied";

        public IbDecoder CreateDecoder(double[] py) => deviceDecoder ? new CopiedDecoder(this, numerator) : new HostIbDecoder(this, py);

        public void CrossTerms(double[] logDecoder, int clusters, double[] result) => even.AsSpan(0, result.Length).CopyTo(result);

        public void DecoderNumerator(double[] encoderTransposed, int clusters, double[] result) => numerator.AsSpan(0, result.Length).CopyTo(result);

        public void Step(double[] logDecoder, int clusters, double[] encoder, EncoderUpdate update, double[] result)
        {
            update(0, encoder.Length / clusters, _calls++ % 2 == 0 ? even : odd, encoder);
            DecoderNumerator([], clusters, result);
        }

        public void Dispose()
        {
        }
    }

    /// <summary>A decoder whose work happens elsewhere (a device): an update returns a fixed I(T;Y), and the numerator is copied back only for the report.</summary>
    private sealed class CopiedDecoder(CopiedProducts products, double[] numerator) : IbDecoder
    {
        private int _clusters;

        public override double Update(double[] qt) => 0.5;

        public override double[] Numerator() => numerator.AsSpan(0, _clusters * (numerator.Length / Clusters)).ToArray();

        protected override void RecomputeCore(double[] encoderTransposed, int clusters) => _clusters = clusters;

        protected override void StepCore(double[] encoder, int clusters, EncoderUpdate update) => products.Step([], clusters, encoder, update, []);
    }
}
