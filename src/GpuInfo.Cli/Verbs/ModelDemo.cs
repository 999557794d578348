using System.Diagnostics;
using System.Text.Json.Nodes;
using GpuInfo.Corpus;
using GpuInfo.Models;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// The demo's model in the loop: a small ONNX bigram model (fp16 logits, fitted to a paragraph about
/// information theory) and its 300-token byte-level BPE, embedded in gpuinfo, score a sample text
/// over sliding windows through ONNX Runtime, as <c>gpuinfo perplexity</c> does with any model.
/// </summary>
internal static class ModelDemo
{
    private const int Context = 64;
    private const int Stride = 32;

    public static JsonObject Run(InfoEngine engine)
    {
        var clock = Stopwatch.StartNew();
        var tokenizer = TokenizerCatalog.VocabAndMerges(Resource("vocab.json"), Resource("merges.txt"), "embedded BPE (300 tokens)");
        using var reader = new StreamReader(Resource("demo.txt"));
        var text = tokenizer.Encode(reader.ReadToEnd(), "demo.txt");
        using var stream = Resource("demo.onnx");
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        using var model = OnnxLanguageModel.Load(bytes.ToArray(), "demo.onnx", new OnnxModelOptions { ExecutionProvider = "cpu" });
        using var source = new ModelRowSource(model, text, new ModelWindowOptions { Context = Context, Stride = Stride });
        var totals = CorpusRun.Evaluate(engine, source).Evaluation!;
        return new JsonObject
        {
            ["model"] = $"demo.onnx: bigram, vocabulary {model.Vocab}, {model.Type} logits, on {model.Provider}",
            ["text_tokens"] = text.Ids.Length,
            ["windows"] = $"{source.Windows.Count} of {Context} tokens, stride {Stride}",
            ["tokens"] = totals.Tokens,
            ["mean_nll_nats"] = totals.MeanNll,
            ["mean_nll_se"] = totals.MeanNllError,
            ["perplexity"] = totals.Perplexity,
            ["bits_per_token"] = totals.BitsPerToken,
            ["bits_per_byte"] = totals.BitsPerByte(totals.ScoredBytes),
            ["top1_accuracy"] = totals.Top1Accuracy,
            ["model_ms"] = Math.Round(model.RunSeconds * 1000, 2),
            ["total_ms"] = Math.Round(clock.Elapsed.TotalMilliseconds, 2),
        };
    }

    private static Stream Resource(string name) =>
        typeof(ModelDemo).Assembly.GetManifestResourceStream("Samples." + name) ?? throw new InvalidOperationException($"the demo's {name} is not embedded in gpuinfo.");
}
