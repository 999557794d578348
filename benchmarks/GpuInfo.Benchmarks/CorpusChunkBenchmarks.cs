using BenchmarkDotNet.Attributes;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Samples;

namespace GpuInfo.Benchmarks;

/// <summary>
/// A corpus evaluation of a .npy file in the page cache (4096 x 50257 float32, 823 MB) on the SIMD
/// CPU path, by chunk size: 0 is the engine's choice (<see cref="InfoEngine.CorpusChunkBytesPerSource"/>,
/// 4 MiB a thread), 64 the size used before it. ReadBaseline reads the same file in 8 MiB pieces, the
/// page-cache copy alone. GB/s = 823 MB over the mean.
/// </summary>
public class CorpusChunkBenchmarks
{
    private const int Rows = 4096, Vocab = 50257;
    private string _dir = "";
    private string _logits = "";
    private string _targets = "";
    private InfoEngine _engine = null!;

    [Params(0, 4, 8, 16, 64)]
    public int ChunkMiB { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _dir = Directory.CreateTempSubdirectory("gpuinfo-chunk-bench").FullName;
        _logits = Path.Combine(_dir, "logits.npy");
        _targets = Path.Combine(_dir, "targets.npy");
        var sample = SampleLogits.Create(Rows, Vocab);
        NpyFormat.Write<float>(_logits, sample.Base, [Rows, Vocab]);
        NpyFormat.Write<long>(_targets, [.. sample.Targets.Select(t => (long)t)], [Rows]);
        _engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        ReadBaseline(); // into the page cache
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _engine.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public long ReadBaseline()
    {
        using var file = File.OpenRead(_logits);
        var buffer = new byte[8 << 20];
        long total = 0;
        int n;
        while ((n = file.Read(buffer)) > 0)
        {
            total += n;
        }

        return total;
    }

    [Benchmark]
    public double Evaluate()
    {
        using var source = FileRowSource.Open(_logits, _targets);
        var run = new CorpusRunOptions { ChunkBytes = ChunkMiB == 0 ? null : (long)ChunkMiB << 20 };
        return CorpusRun.Evaluate(_engine, source, null, run).Evaluation!.MeanNll;
    }
}
