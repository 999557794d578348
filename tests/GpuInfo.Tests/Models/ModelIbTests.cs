using GpuInfo.Corpus;
using GpuInfo.Models;
using GpuInfo.Tests.Corpus;
using GpuInfo.Tests.Measures;

namespace GpuInfo.Tests.Models;

/// <summary>
/// The Information Bottleneck straight over a model's outputs on a text (one context per scored
/// token): bigram.onnx predicts from the previous token alone, so its contexts are alike exactly when
/// they end in the same token, and its I(X;Y) has a closed form.
/// </summary>
public sealed class ModelIbTests(CorpusEngineFixture fixture) : IClassFixture<CorpusEngineFixture>
{
    private readonly InfoEngine _engine = fixture.Engine;

    [Theory]
    [InlineData(64, 32, 1.0, 0)]
    [InlineData(16, 5, 1.0, 1)]
    [InlineData(64, 32, 0.0, 2)]
    public void Contexts_ending_in_the_same_token_share_a_cluster_and_the_information_is_the_closed_form(int context, int stride, double alpha, int seed)
    {
        var text = ModelFiles.Sample();
        using var model = OnnxLanguageModel.Open(ModelFiles.Path("bigram.onnx"), new OnnxModelOptions { ExecutionProvider = "cpu" });
        using var source = new ModelRowSource(model, text, new ModelWindowOptions { Context = context, Stride = stride });
        var options = new IbOptions { Beta = 8, Alpha = alpha, Clusters = 6, Seed = seed, Restarts = 1, MaxIterations = 200 };
        var result = _engine.InformationBottleneck(ConditionalRows.FromLogits(source), options);

        var previous = Enumerable.Range(0, (int)source.Rows).Select(r => text.Ids[source.Windows.TokenOfRow(r) - 1]).ToArray();
        Assert.True(previous.Distinct().Count() > 20, "the sample text should end its contexts in many different tokens");
        var clusterOf = new Dictionary<int, int>();
        for (int r = 0; r < previous.Length; r++)
        {
            int cluster = clusterOf.TryAdd(previous[r], result.Assignments[r]) ? result.Assignments[r] : clusterOf[previous[r]];
            Assert.True(cluster == result.Assignments[r], $"row {r} (after token {previous[r]}) is in cluster {result.Assignments[r]}, an earlier row after the same token in {cluster}");
        }

        Assert.InRange(result.Clusters, 2, 6);
        double expected = MutualInformationBits(previous);
        Assert.True(Math.Abs(result.IxyBits - expected) <= 1e-5 * expected, $"I(X;Y) {result.IxyBits} bits against {expected} in closed form");
        Assert.InRange(result.ItyBits, 0, result.IxyBits * (1 + 1e-6));
    }

    [Fact]
    public void The_model_gives_the_same_solution_as_its_logits_from_memory()
    {
        var text = ModelFiles.Sample();
        using var model = OnnxLanguageModel.Open(ModelFiles.Path("bigram.onnx"), new OnnxModelOptions { ExecutionProvider = "cpu" });
        using var source = new ModelRowSource(model, text, new ModelWindowOptions { Context = 32, Stride = 8 });
        int rows = (int)source.Rows, vocab = ModelFiles.Vocab;
        var logits = new float[rows * vocab];
        for (int r = 0; r < rows; r++)
        {
            int after = text.Ids[source.Windows.TokenOfRow(r) - 1];
            for (int j = 0; j < vocab; j++)
            {
                logits[(r * vocab) + j] = (float)BigramClosedForm.Logit(after, j);
            }
        }

        using var memory = MemoryRowSource.Float32(logits, vocab);
        var options = new IbOptions { Beta = 5, Clusters = 4, Seed = 3, Restarts = 1, MaxIterations = 100 };
        var fromModel = _engine.InformationBottleneck(ConditionalRows.FromLogits(source, temperature: 1.5), options);
        var fromMemory = _engine.InformationBottleneck(ConditionalRows.FromLogits(memory, temperature: 1.5), options);
        // The same rows, chunked differently (a model's chunks end where its windows do): float32 sums in another order.
        AssertSameSolution(fromMemory, fromModel, 1e-6);
    }

    [Fact]
    public void Chunks_that_end_at_window_edges_and_straddle_resident_chunks_give_the_same_solution()
    {
        // 8-row reads make 16-row resident chunks on the CPU; a model's chunks end at its windows' edges
        // (5 rows each here), so reads straddle them.
        var text = ModelFiles.Sample();
        using var model = OnnxLanguageModel.Open(ModelFiles.Path("bigram.onnx"), new OnnxModelOptions { ExecutionProvider = "cpu" });
        using var source = new ModelRowSource(model, text, new ModelWindowOptions { Context = 16, Stride = 5 });
        using var small = new InfoEngine(new InfoEngineOptions { Device = "cpu" }) { IbChunkBytes = 8L * ModelFiles.Vocab * 4, IbResidentBytes = 1L << 30 };
        var options = new IbOptions { Beta = 6, Clusters = 5, Seed = 4, Restarts = 1, MaxIterations = 60 };
        var chunked = small.InformationBottleneck(ConditionalRows.FromLogits(source), options);
        var whole = _engine.InformationBottleneck(ConditionalRows.FromLogits(source), options);
        Assert.Contains("distributions resident", chunked.Products, StringComparison.Ordinal);
        AssertSameSolution(whole, chunked, 1e-6);
    }

    /// <summary>The same assignments, I(X;Y) to 1e-6 and I(X;T), I(T;Y) to <paramref name="tolerance"/>, relative.</summary>
    internal static void AssertSameSolution(IbResult expected, IbResult actual, double tolerance)
    {
        Assert.Equal(expected.Assignments, actual.Assignments);
        Assert.Equal(expected.IxyBits, actual.IxyBits, 1e-6 * expected.IxyBits);
        Assert.Equal(expected.IxtBits, actual.IxtBits, tolerance * expected.IxtBits);
        Assert.Equal(expected.ItyBits, actual.ItyBits, tolerance * expected.ItyBits);
    }

    /// <summary>I(X;Y) in bits for uniform contexts whose p(y|x) is softmax of the bigram table's row for the token before them.</summary>
    private static double MutualInformationBits(int[] previous)
    {
        int vocab = ModelFiles.Vocab;
        var py = new double[vocab];
        double hyx = 0;
        foreach (int after in previous)
        {
            var z = Enumerable.Range(0, vocab).Select(j => BigramClosedForm.Logit(after, j)).ToArray();
            double max = z.Max(), sum = z.Sum(v => Math.Exp(v - max));
            for (int j = 0; j < vocab; j++)
            {
                double p = Math.Exp(z[j] - max) / sum;
                py[j] += p / previous.Length;
                hyx -= p * Math.Log(p) / previous.Length;
            }
        }

        double hy = -py.Where(p => p > 0).Sum(p => p * Math.Log(p));
        return (hy - hyx) / Math.Log(2);
    }
}

/// <summary>
/// The IB over a model's rows on an ILGPU accelerator: chunks of every size (a model's end at its
/// windows' edges) uploaded and kept resident on the device, against the SIMD CPU's solution.
/// </summary>
public abstract class ModelIbDeviceTests(EngineFixture fixture)
{
    [Fact]
    public void A_models_rows_resident_on_the_device_give_the_cpu_solution()
    {
        var engine = fixture.Engine;
        engine.IbDeviceChunkBytes = 32L * ModelFiles.Vocab * 4;
        engine.IbResidentBytes = 1L << 30;
        var text = ModelFiles.Sample();
        using var model = OnnxLanguageModel.Open(ModelFiles.Path("bigram.onnx"), new OnnxModelOptions { ExecutionProvider = "cpu" });
        using var source = new ModelRowSource(model, text, new ModelWindowOptions { Context = 16, Stride = 5 });
        using var cpu = new InfoEngine(new InfoEngineOptions { Device = "cpu" });

        // A few iterations (ILGPU's CPU accelerator launches slowly), whose encoder still moves fast
        // enough to carry the two devices' float32 differences (1.3e-5 relative seen in I(X;T)).
        var options = new IbOptions { Beta = 6, Clusters = 5, Seed = 4, Restarts = 1, MaxIterations = 3 };
        var device = engine.InformationBottleneck(ConditionalRows.FromLogits(source), options);
        var reference = cpu.InformationBottleneck(ConditionalRows.FromLogits(source), options);
        Assert.Contains("rows resident", device.Products, StringComparison.Ordinal);
        ModelIbTests.AssertSameSolution(reference, device, 1e-4);
    }
}

public sealed class IlgpuCpuModelIbTests(IlgpuCpuFixture f) : ModelIbDeviceTests(f), IClassFixture<IlgpuCpuFixture>;

public sealed class CudaModelIbTests(CudaFixture f) : ModelIbDeviceTests(f), IClassFixture<CudaFixture>;
