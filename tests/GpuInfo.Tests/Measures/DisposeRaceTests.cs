using GpuInfo.Corpus;

namespace GpuInfo.Tests.Measures;

/// <summary>
/// Dispose racing calls in flight, on the SIMD path and on ILGPU's CPU accelerator: every call either
/// returns the right answer or throws ObjectDisposedException naming the engine; nothing else escapes
/// (ILGPU's own exceptions, a process abort), and calls after Dispose throw it too.
/// </summary>
public sealed class DisposeRaceTests
{
    [Theory]
    [InlineData("cpu", 30)]
    [InlineData("ilgpu-cpu", 8)]
    public void Row_measures_on_eight_threads_with_a_dispose_racing_them(string device, int rounds)
    {
        var data = new Reference.TestData();
        const int rows = 6, vocab = 301;
        var x = data.Logits(rows, vocab);
        var y = data.Targets(rows, vocab);
        double expected;
        using (var reference = new InfoEngine(new InfoEngineOptions { Device = device }))
        {
            expected = reference.CrossEntropy(Logits.Float32(x, vocab), y).Loss;
        }

        for (int round = 0; round < rounds; round++)
        {
            var engine = new InfoEngine(new InfoEngineOptions { Device = device });
            int refused = 0;
            var failures = new System.Collections.Concurrent.ConcurrentQueue<Exception>();

            // Dedicated threads, not pool tasks: eight busy callers on a 2-core machine would starve
            // the pool that the SIMD path's Parallel.For and the test's own continuations need.
            var threads = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
            {
                try
                {
                    while (true)
                    {
                        double mean = engine.CrossEntropy(Logits.Float32(x, vocab), y).Loss;
                        Assert.True(Math.Abs(mean - expected) <= 1e-5 * Math.Abs(expected), $"{mean} != {expected}");
                    }
                }
                catch (ObjectDisposedException e) when (e.ObjectName == nameof(InfoEngine))
                {
                    Interlocked.Increment(ref refused);
                }
                catch (Exception e)
                {
                    failures.Enqueue(e);
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            Thread.Sleep(Random.Shared.Next(1, 20));
            engine.Dispose();
            threads.ForEach(t => t.Join());
            Assert.Empty(failures);
            Assert.Equal(8, refused);
            Assert.Throws<ObjectDisposedException>(() => engine.Entropy(Logits.Float32(x, vocab), new float[rows]));
        }
    }

    [Theory]
    [InlineData("cpu")]
    [InlineData("ilgpu-cpu")]
    public async Task An_information_bottleneck_solve_stops_when_its_engine_is_disposed(string device)
    {
        var joint = Distributions.InformationBottleneckTests.RandomJoint(24, 40, 3);
        // Minutes of work (each restart converges in ~60 ms here): under a loaded test run the continuation that disposes
        // may wait on a busy xunit worker for seconds, and a solve of 50 restarts (3 s) once finished first.
        var options = new IbOptions { Beta = 20, Clusters = 8, Restarts = 5000, MaxIterations = 100_000, Tolerance = 1e-300 };
        for (int round = 0; round < 4; round++)
        {
            var engine = new InfoEngine(new InfoEngineOptions { Device = device });
            var solve = Task.Run(() => engine.InformationBottleneck(joint, options));
            await Task.Delay(20 + (round * 15));
            engine.Dispose();
            var e = await Assert.ThrowsAnyAsync<ObjectDisposedException>(() => solve);
            Assert.Equal(nameof(InfoEngine), e.ObjectName);
        }
    }

    [Fact]
    public void Information_bottleneck_and_curves_honour_cancellation()
    {
        var joint = Distributions.InformationBottleneckTests.RandomJoint(120, 200, 4);
        using var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(30));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            engine.InformationBottleneck(joint, new IbOptions { Beta = 20, Clusters = 32, Restarts = 10_000, MaxIterations = 100_000, Tolerance = 1e-300 }, cancel.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the solve stopped {clock.Elapsed} after it was started, not at the next iteration");
        using var curveCancel = new CancellationTokenSource();
        curveCancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => engine.InformationCurve(joint, [1.0, 2.0], new IbOptions(), curveCancel.Token));
    }

    [Fact]
    public void A_corpus_run_whose_engine_is_disposed_between_chunks_stops_with_that_exception()
    {
        const int rows = 50, vocab = 64;
        var x = new Reference.TestData(9).Logits(rows, vocab);
        var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        var e = Assert.Throws<ObjectDisposedException>(() => CorpusRun.Evaluate(engine, MemoryRowSource.Float32(x, vocab, new long[rows]), null,
            new CorpusRunOptions { ChunkBytes = vocab * 4 * 5, Progress = new Inline(p => engine.Dispose()) }));
        Assert.Equal(nameof(InfoEngine), e.ObjectName);
    }

    private sealed class Inline(Action<CorpusProgress> report) : IProgress<CorpusProgress>
    {
        public void Report(CorpusProgress value) => report(value);
    }
}
