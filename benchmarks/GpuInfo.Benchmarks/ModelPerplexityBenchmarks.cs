using BenchmarkDotNet.Attributes;
using GpuInfo.Corpus;
using GpuInfo.Models;

namespace GpuInfo.Benchmarks;

/// <summary>
/// The time outside the model in a perplexity run: the model alone over every window (its logits
/// handed out chunk by chunk and dropped) against the whole evaluation (the same chunks through the
/// measures). Needs a model and a text:
/// <c>GPUINFO_BENCH_MODEL=/tmp/bench32k.onnx GPUINFO_BENCH_TEXT=/tmp/text.txt GPUINFO_BENCH_TOKENIZER=$PWD/tests/GpuInfo.Tests/Models/vocab.json dotnet run -c Release --project benchmarks/GpuInfo.Benchmarks -- --filter '*ModelPerplexity*'</c>
/// (the model from benchmarks/models/make_bench_model.py; absolute paths: the benchmark runs in a folder of its own).
/// </summary>
public class ModelPerplexityBenchmarks
{
    private InfoEngine _engine = null!;
    private OnnxLanguageModel _model = null!;
    private TokenizedText _text = null!;

    [Params(512)]
    public int Stride { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        string model = Environment.GetEnvironmentVariable("GPUINFO_BENCH_MODEL") ?? throw new InvalidOperationException("set GPUINFO_BENCH_MODEL to an ONNX causal LM (benchmarks/models/make_bench_model.py)");
        string text = Environment.GetEnvironmentVariable("GPUINFO_BENCH_TEXT") ?? throw new InvalidOperationException("set GPUINFO_BENCH_TEXT to a UTF-8 text");
        string tokenizer = Environment.GetEnvironmentVariable("GPUINFO_BENCH_TOKENIZER") ?? throw new InvalidOperationException("set GPUINFO_BENCH_TOKENIZER to a tokenizer name or file (e.g. the tests' Models/vocab.json)");
        _engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        _model = OnnxLanguageModel.Open(model, new OnnxModelOptions { ExecutionProvider = "cpu" });
        _text = TokenizerCatalog.Load(tokenizer).Encode(File.ReadAllText(text), text);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _model.Dispose();
        _engine.Dispose();
    }

    /// <summary>The model over every window, logits handed out chunk by chunk as a run takes them, no measures.</summary>
    [Benchmark(Baseline = true)]
    public long ModelOnly()
    {
        using RowSource source = new ModelRowSource(_model, _text, new ModelWindowOptions { Context = 2 * Stride, Stride = Stride });
        var block = new RowBlock(Stride * 2, source.Vocab, source.Type, true, true);
        long rows = 0;
        while (rows < source.Rows)
        {
            block.Reset(rows, source.ChunkRows(rows, (int)Math.Min(2 * Stride, source.Rows - rows)));
            source.Read(block);
            rows += block.Rows;
        }

        return rows;
    }

    /// <summary>The whole evaluation: the same windows, every chunk through the measures (one chunk read ahead).</summary>
    [Benchmark]
    public double Perplexity()
    {
        using var source = new ModelRowSource(_model, _text, new ModelWindowOptions { Context = 2 * Stride, Stride = Stride });
        return CorpusRun.Evaluate(_engine, source).Evaluation!.Perplexity;
    }
}
