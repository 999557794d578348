using GpuInfo.Corpus;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Corpus;

/// <summary>
/// Corpus runs spread over several engines: three ILGPU CPU accelerators stand in for GPUs. The
/// totals must equal one engine's bit for bit (sums are exact), and per-row values must land at
/// their rows whatever order the devices finish chunks in.
/// </summary>
public sealed class MultiDeviceRunTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// The SIMD path is deterministic, so several engines must give one engine's sums bit for bit.
    /// ILGPU's accelerators may add a row's group reduction in another order from call to call (the
    /// README says so), so there the sums agree to float32 rounding of the per-row values.
    /// </summary>
    [Theory]
    [InlineData("cpu", "cpu,cpu,cpu", true)]
    [InlineData("ilgpu-cpu", "ilgpu-cpu,ilgpu-cpu,ilgpu-cpu", false)]
    public void Several_engines_give_one_engines_totals(string single, string list, bool bitwise)
    {
        var data = new Reference.TestData();
        const int rows = 41, vocab = 37;
        var x = data.Logits(rows, vocab);
        var q = data.Perturbed(x, 0.2);
        var y = data.Targets(rows, vocab, 0.2).Select(v => (long)v).ToArray();
        using var one = new InfoEngine(new InfoEngineOptions { Device = single });
        var many = InfoEngine.CreateEngines(list);
        try
        {
            Assert.Equal(3, many.Count);
            var run = new CorpusRunOptions { ChunkBytes = 3 * vocab * 4 };
            var source = MemoryRowSource.Float32(x, vocab, y);
            var alone = CorpusRun.Evaluate(one, source, null, run).Evaluation!;
            var perRow = new float[rows];
            var spread = CorpusRun.Evaluate(many, source, null, run with
            {
                PerRow = (first, values) => values.CopyTo(perRow.AsSpan((int)first)),
            }).Evaluation!;
            Assert.Equal(alone.Tokens, spread.Tokens);
            Assert.Equal(alone.Top1Hits, spread.Top1Hits);
            Same(alone.ExactSums, spread.ExactSums, bitwise, data.Seed);
            var loss = new float[rows];
            one.CrossEntropy(Logits.Float32(x, vocab), y, new CrossEntropyOptions { Reduction = Reduction.None }, loss);
            for (int i = 0; i < rows; i++)
            {
                Assert.True(Math.Abs(loss[i] - perRow[i]) <= 1e-5 * Math.Max(1, Math.Abs(loss[i])), $"row {i}: {loss[i]} vs {perRow[i]} (seed {data.Seed})");
            }

            var compareOne = CorpusRun.Compare(one, MemoryRowSource.Float32(x, vocab, y), MemoryRowSource.Float32(q, vocab), 1.1f, -100, run).Comparison!;
            var compareMany = CorpusRun.Compare(many, MemoryRowSource.Float32(x, vocab, y), MemoryRowSource.Float32(q, vocab), 1.1f, -100, run).Comparison!;
            Assert.Equal(compareOne.Tokens, compareMany.Tokens);
            Assert.Equal(compareOne.SameTop1, compareMany.SameTop1);
            Same(compareOne.ExactSums, compareMany.ExactSums, bitwise, data.Seed);
            if (bitwise)
            {
                Assert.Equal(compareOne.KlPercentiles(), compareMany.KlPercentiles());
            }
        }
        finally
        {
            foreach (var e in many)
            {
                e.Dispose();
            }
        }
    }

    [Fact]
    public void A_bad_row_on_one_device_stops_the_run_and_names_the_row()
    {
        const int rows = 30, vocab = 11;
        var x = new Reference.TestData(5).Logits(rows, vocab);
        x[(17 * vocab) + 3] = float.NaN;
        var many = InfoEngine.CreateEngines("ilgpu-cpu,ilgpu-cpu");
        try
        {
            var e = Assert.Throws<RowSourceException>(() => CorpusRun.Evaluate(many, MemoryRowSource.Float32(x, vocab, new long[rows], "nan-rows"), null,
                new CorpusRunOptions { ChunkBytes = 2 * vocab * 4 }));
            Assert.Equal(17, e.Row);
            Assert.Equal("nan-rows", e.Source);
        }
        finally
        {
            foreach (var engine in many)
            {
                engine.Dispose();
            }
        }
    }

    private static void Same(IEnumerable<(string Name, ExactSum Sum)> expected, IEnumerable<(string Name, ExactSum Sum)> actual, bool bitwise, int seed)
    {
        foreach (var ((name, a), (_, b)) in expected.Zip(actual))
        {
            Assert.True(bitwise ? a.ToExactString() == b.ToExactString() : Math.Abs(a.Value - b.Value) <= 1e-5 * Math.Abs(a.Value),
                $"{name}: one engine {a}, several {b} (seed {seed})");
        }
    }

    [Fact]
    public void The_cli_spreads_eval_over_a_device_list_with_the_same_report()
    {
        var data = new Reference.TestData();
        const int rows = 300, vocab = 1001; // 1.2 MB: two 1 MiB chunks, so both devices write per-token values
        string logits = _dir.File("x.npy"), targets = _dir.File("y.npy"), perToken = _dir.File("loss.npy");
        GpuInfo.Formats.NpyFormat.Write(logits, data.Logits(rows, vocab).AsSpan(), [rows, vocab]);
        GpuInfo.Formats.NpyFormat.Write(targets, data.Targets(rows, vocab).Select(v => (long)v).ToArray().AsSpan(), [rows]);
        var one = Cli.CliRunner.Json("eval", "--logits", logits, "--targets", targets, "--device", "ilgpu-cpu", "--chunk-mb", "1");
        var many = Cli.CliRunner.Json("eval", "--logits", logits, "--targets", targets, "--device", "ilgpu-cpu,ilgpu-cpu", "--per-token", perToken, "--chunk-mb", "1");
        Assert.Equal(one["tokens"]!.GetValue<long>(), many["tokens"]!.GetValue<long>());
        foreach (var key in new[] { "mean_nll", "perplexity", "mean_entropy", "top1_accuracy" })
        {
            Assert.Equal(Cli.CliRunner.Number(one[key]), Cli.CliRunner.Number(many[key]), 1e-5 * Math.Abs(Cli.CliRunner.Number(one[key])));
        }

        var perTokenInfo = GpuInfo.Formats.NpyFormat.Read(perToken);
        Assert.Equal(new long[] { rows }, perTokenInfo.Shape);
        var values = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(perToken).AsSpan((int)perTokenInfo.DataOffset)).ToArray();
        Assert.Equal(Cli.CliRunner.Number(one["mean_nll"]), values.Average(v => (double)v), 1e-5);

        Assert.Contains(", ", many["device"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
