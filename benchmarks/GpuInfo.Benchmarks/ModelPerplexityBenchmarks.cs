using System.Runtime.InteropServices;
using BenchmarkDotNet.Attributes;
using GpuInfo.Corpus;
using GpuInfo.Models;

namespace GpuInfo.Benchmarks;

/// <summary>
/// The time outside the model in a perplexity run: the model alone over every window (its logits
/// handed out chunk by chunk and dropped) against the whole evaluation (the same chunks through the
/// measures), and the measures alone over those chunks held in memory. Needs a float32 model and a text:
/// <c>GPUINFO_BENCH_MODEL=/tmp/bench32k.onnx GPUINFO_BENCH_TEXT=/tmp/text.txt GPUINFO_BENCH_TOKENIZER=$PWD/tests/GpuInfo.Tests/Models/vocab.json dotnet run -c Release --project benchmarks/GpuInfo.Benchmarks -- --filter '*ModelPerplexity*'</c>
/// (the model from benchmarks/models/make_bench_model.py; absolute paths: the benchmark runs in a folder of its own).
/// </summary>
public class ModelPerplexityBenchmarks
{
    private InfoEngine _engine = null!;
    private OnnxLanguageModel _model = null!;
    private TokenizedText _text = null!;
    private readonly List<float[]> _chunks = [];
    private readonly List<long[]> _targets = [];

    [Params(512)]
    public int Stride { get; set; }

    /// <summary>
    /// ONNX Runtime's operator threads: 0 GpuInfo's default (one per physical core, spinning off), 1
    /// what ONNX Runtime's own default ran on the 2-core VM of the results.
    /// </summary>
    [Params(0, 1)]
    public int OrtThreads { get; set; }

    [GlobalSetup(Targets = [nameof(ModelOnly), nameof(Perplexity)])]
    public void Setup()
    {
        string model = Environment.GetEnvironmentVariable("GPUINFO_BENCH_MODEL") ?? throw new InvalidOperationException("set GPUINFO_BENCH_MODEL to an ONNX causal LM (benchmarks/models/make_bench_model.py)");
        string text = Environment.GetEnvironmentVariable("GPUINFO_BENCH_TEXT") ?? throw new InvalidOperationException("set GPUINFO_BENCH_TEXT to a UTF-8 text");
        string tokenizer = Environment.GetEnvironmentVariable("GPUINFO_BENCH_TOKENIZER") ?? throw new InvalidOperationException("set GPUINFO_BENCH_TOKENIZER to a tokenizer name or file (e.g. the tests' Models/vocab.json)");
        _engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        _model = OnnxLanguageModel.Open(model, new OnnxModelOptions { ExecutionProvider = "cpu", Threads = OrtThreads });
        _text = TokenizerCatalog.Load(tokenizer).Encode(File.ReadAllText(text), text);
    }

    /// <summary>Runs the model once and keeps every chunk's logits and targets, cut as a run cuts them (64 MiB chunks ending at window edges).</summary>
    [GlobalSetup(Target = nameof(MeasuresOnly))]
    public void SetupMeasures()
    {
        Setup();
        using RowSource source = new ModelRowSource(_model, _text, new ModelWindowOptions { Context = 2 * Stride, Stride = Stride });
        if (source.Type != ScalarType.Float32)
        {
            throw new InvalidOperationException($"MeasuresOnly keeps float32 logits; {source.Name} gives {source.Type}.");
        }

        int maxRows = (int)((64L << 20) / source.RowBytes); // gpuinfo perplexity's chunk
        var block = new RowBlock(maxRows, source.Vocab, source.Type, true, true);
        for (long rows = 0; rows < source.Rows; rows += block.Rows)
        {
            block.Reset(rows, source.ChunkRows(rows, (int)Math.Min(maxRows, source.Rows - rows)));
            source.Read(block);
            var logits = block.Logits;
            _chunks.Add(MemoryMarshal.Cast<byte, float>(MemoryMarshal.CreateReadOnlySpan(in logits.Start, checked((int)logits.ElementCount * sizeof(float)))).ToArray());
            _targets.Add([.. block.Targets.ToArray().Select(t => t == RowSource.NoTarget ? -100 : t)]);
        }
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

    /// <summary>The whole evaluation: the same windows, every chunk through the measures (the model on the CPU runs in turn with them, <see cref="RowSource.ReadAhead"/>).</summary>
    [Benchmark]
    public double Perplexity()
    {
        using var source = new ModelRowSource(_model, _text, new ModelWindowOptions { Context = 2 * Stride, Stride = Stride });
        return CorpusRun.Evaluate(_engine, source).Evaluation!.Perplexity;
    }

    /// <summary>The measures alone over the same chunks of logits (held in memory), as a run gives them to the engine.</summary>
    [Benchmark]
    public double MeasuresOnly()
    {
        var totals = new PerplexityAccumulator();
        for (int i = 0; i < _chunks.Count; i++)
        {
            _engine.Evaluate(Logits.Float32(_chunks[i], _model.Vocab), _targets[i], totals);
        }

        return totals.Perplexity;
    }
}
