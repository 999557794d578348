using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Measures;

/// <summary>
/// Accelerator paths cut host rows into chunks that fit device memory and alternate two streams;
/// forcing tiny chunks must not change any result (ILGPU CPU accelerator in CI; CUDA/OpenCL when present).
/// Group reductions on an accelerator may add in a different order from run to run, so results are
/// compared to the float32 floor the reference tests allow, not bit for bit.
/// </summary>
public abstract class IlgpuChunkingTests(EngineFixture fixture)
{
    [Fact]
    public void Chunked_runs_equal_single_chunk_runs()
    {
        var engine = fixture.Engine;
        const int rows = 11, vocab = 517;
        var data = new TestData();
        var p = data.Logits(rows, vocab);
        var q = data.Perturbed(p, 0.1);
        var y = data.Targets(rows, vocab, 0.2);
        var options = new CrossEntropyOptions { LabelSmoothing = 0.1f, ZLoss = 1e-4f };

        (float[] Loss, float[] Grad, float[] Kl, float[] Js, PerplexityAccumulator Eval) Run()
        {
            var loss = new float[rows];
            var grad = new float[rows * vocab];
            var kl = new float[rows];
            var js = new float[rows];
            var eval = new PerplexityAccumulator();
            engine.CrossEntropyWithGradient(Logits.Float32(p, vocab), y, grad, options, loss);
            engine.KlDivergence(Logits.Float32(p, vocab), Logits.Float32(q, vocab), kl);
            engine.JensenShannon(Logits.Float32(p, vocab), Logits.Float32(q, vocab), js);
            engine.Evaluate(Logits.Float32(p, vocab), y, eval, options);
            return (loss, grad, kl, js, eval);
        }

        var whole = Run();
        foreach (long chunk in new long[] { 1, 3, 4 })
        {
            using var force = BackendKnobs.ForceChunkRows(engine, chunk);
            var parts = Run();
            Near(whole.Loss, parts.Loss, $"loss, chunks of {chunk}");
            Near(whole.Grad, parts.Grad, $"gradient, chunks of {chunk}");
            Near(whole.Kl, parts.Kl, $"kl, chunks of {chunk}");
            Near(whole.Js, parts.Js, $"js, chunks of {chunk}");
            Assert.Equal(whole.Eval.NllSum, parts.Eval.NllSum, 1e-4);
            Assert.Equal(whole.Eval.Top1Hits, parts.Eval.Top1Hits);
        }
    }

    [Fact]
    public void Concurrent_calls_on_one_engine_give_the_sequential_results()
    {
        var engine = fixture.Engine;
        EngineConcurrency.Check(engine, rows: 6, vocab: 301, exact: false);
    }

    internal static void Near(float[] expected, float[] actual, string what)
    {
        float scale = expected.Max(MathF.Abs);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Abs(expected[i]) + 1e-6 * scale, $"{what} [{i}]: {expected[i]} vs {actual[i]}");
        }
    }
}

public sealed class IlgpuCpuChunkingTests(IlgpuCpuFixture f) : IlgpuChunkingTests(f), IClassFixture<IlgpuCpuFixture>;

public sealed class CudaChunkingTests(CudaFixture f) : IlgpuChunkingTests(f), IClassFixture<CudaFixture>;

public sealed class OpenClChunkingTests(OpenClFixture f) : IlgpuChunkingTests(f), IClassFixture<OpenClFixture>;

public sealed class SimdCpuConcurrencyTests(SimdCpuFixture f) : IClassFixture<SimdCpuFixture>
{
    [Fact]
    public void Concurrent_calls_on_one_engine_give_the_sequential_results() => EngineConcurrency.Check(f.Engine, rows: 40, vocab: 5003, exact: true);
}

internal static class EngineConcurrency
{
    /// <summary>Eight threads each run every measure on their own data; results must equal a sequential run (bit for bit on the SIMD path).</summary>
    public static void Check(InfoEngine engine, int rows, int vocab, bool exact)
    {
        var inputs = Enumerable.Range(0, 8).Select(i =>
        {
            var data = new TestData(1000 + i);
            var p = data.Logits(rows, vocab);
            return (P: p, Q: data.Perturbed(p, 0.2), Y: data.Targets(rows, vocab, 0.1));
        }).ToArray();

        float[] RunOne(int i)
        {
            var (p, q, y) = inputs[i];
            var lse = new float[rows];
            var kl = new float[rows];
            var loss = new float[rows];
            engine.LogSumExp(Logits.Float32(p, vocab), lse);
            engine.KlDivergence(Logits.Float32(p, vocab), Logits.Float32(q, vocab), kl);
            engine.CrossEntropy(Logits.Float32(p, vocab), y, null, loss);
            return [.. lse, .. kl, .. loss];
        }

        var sequential = Enumerable.Range(0, inputs.Length).Select(RunOne).ToArray();
        var concurrent = new float[inputs.Length][];
        Parallel.For(0, inputs.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i => concurrent[i] = RunOne(i));
        for (int i = 0; i < inputs.Length; i++)
        {
            if (exact)
            {
                Assert.Equal(sequential[i], concurrent[i]);
            }
            else
            {
                IlgpuChunkingTests.Near(sequential[i], concurrent[i], $"thread {i}");
            }
        }
    }
}
