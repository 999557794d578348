using GpuInfo.Corpus;
using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Corpus;

/// <summary>
/// A source that does not read ahead (<see cref="RowSource.ReadAhead"/> false, as a model on the
/// CPU) is read on the thread that measures it, and gives the same bits, the same row order and the
/// same errors as one that does.
/// </summary>
public sealed class ReadAheadTests(CorpusEngineFixture fixture) : IClassFixture<CorpusEngineFixture>
{
    private readonly InfoEngine _engine = fixture.Engine;

    [Fact]
    public void Without_read_ahead_one_engine_reads_every_chunk_on_the_calling_thread_and_gets_the_same_bits()
    {
        const int rows = 23, vocab = 523;
        var data = new TestData(70);
        var x = data.Logits(rows, vocab);
        var y = CorpusCheck.Targets(data, rows, vocab, 0.2);
        using var ahead = new ScriptedSource(x, vocab, y, "ahead", copy: false);
        using var inTurn = new ScriptedSource(x, vocab, y, "in-turn", copy: false, readAhead: false);
        var chunks = new List<long>();
        var run = new CorpusRunOptions { ChunkBytes = 4 * ahead.RowBytes, TopK = [1, 3] };

        var expected = CorpusRun.Evaluate(_engine, ahead, null, run).Evaluation!;
        var actual = CorpusRun.Evaluate(_engine, inTurn, null, run with { PerRow = (first, _) => chunks.Add(first) }).Evaluation!;

        CorpusCheck.Same(expected, actual, "without read-ahead");
        Assert.Equal(expected.TopKHits[3], actual.TopKHits[3]);
        Assert.Equal([Environment.CurrentManagedThreadId], inTurn.ReadThreads);
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, ahead.ReadThreads);
        Assert.Equal(new long[] { 0, 4, 8, 12, 16, 20 }, chunks);

        var compared = CorpusRun.Compare(_engine, inTurn, inTurn, 1.3f, -100, run).Comparison!;
        CorpusCheck.Same(CorpusRun.Compare(_engine, ahead, ahead, 1.3f, -100, run).Comparison!, compared, "comparison without read-ahead");
    }

    [Fact]
    public void Without_read_ahead_several_engines_take_turns_and_get_one_engines_bits()
    {
        const int rows = 41, vocab = 37;
        var data = new TestData(71);
        var x = data.Logits(rows, vocab);
        var y = CorpusCheck.Targets(data, rows, vocab, 0.2);
        var engines = InfoEngine.CreateEngines("cpu,cpu,cpu");
        try
        {
            using var source = new ScriptedSource(x, vocab, y, "in-turn", readAhead: false);
            var perRow = new float[rows];
            var run = new CorpusRunOptions { ChunkBytes = 3 * source.RowBytes, PerRow = (first, values) => values.CopyTo(perRow.AsSpan((int)first)) };
            var spread = CorpusRun.Evaluate(engines, source, null, run).Evaluation!;

            CorpusCheck.Same(CorpusCheck.OneCall(_engine, x, vocab, y), spread, "three engines without read-ahead");
            var loss = new float[rows];
            _engine.CrossEntropy(Logits.Float32(x, vocab), y, new CrossEntropyOptions { Reduction = Reduction.None }, loss);
            for (int i = 0; i < rows; i++)
            {
                Assert.True(Math.Abs(loss[i] - perRow[i]) <= 1e-5 * Math.Max(1, Math.Abs(loss[i])), $"row {i}: {loss[i]} vs {perRow[i]}");
            }
        }
        finally
        {
            foreach (var engine in engines)
            {
                engine.Dispose();
            }
        }
    }

    [Fact]
    public void Without_read_ahead_a_failing_read_names_the_source_and_rows_after_the_chunks_before_it()
    {
        const int rows = 12, vocab = 37;
        var data = new TestData(72);
        var x = data.Logits(rows, vocab);
        var y = CorpusCheck.Targets(data, rows, vocab, 0);
        using var source = new ScriptedSource(x, vocab, y, "flaky-model", first => first >= 5 ? new IOException("the model failed") : null, readAhead: false);
        var chunks = new List<long>();
        var run = new CorpusRunOptions { ChunkBytes = 2 * source.RowBytes, PerRow = (first, _) => chunks.Add(first) };

        var e = Assert.Throws<RowSourceException>(() => CorpusRun.Evaluate(_engine, source, null, run));

        Assert.Equal("flaky-model", e.Source);
        Assert.Contains("[6, 8)", e.Message, StringComparison.Ordinal);
        Assert.IsType<IOException>(e.InnerException);
        Assert.Equal(new long[] { 0, 2, 4 }, chunks);

        var engines = InfoEngine.CreateEngines("cpu,cpu");
        try
        {
            var spread = Assert.Throws<RowSourceException>(() => CorpusRun.Evaluate(engines, source, null, run with { PerRow = null }));
            Assert.Equal("flaky-model", spread.Source);
        }
        finally
        {
            foreach (var engine in engines)
            {
                engine.Dispose();
            }
        }
    }
}
