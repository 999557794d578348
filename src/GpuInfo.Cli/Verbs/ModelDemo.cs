using System.Diagnostics;
using System.Text.Json.Nodes;
using GpuInfo.Corpus;
using GpuInfo.Models;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// The demo's model in the loop: a small ONNX bigram model (fp16 logits, fitted to a paragraph about
/// information theory) and its 300-token byte-level BPE, embedded in gpuinfo, score a sample text
/// over sliding windows through ONNX Runtime, as <c>gpuinfo perplexity</c> does with any model; then
/// the Information Bottleneck groups the model's contexts by what it predicts after them, as
/// <c>gpuinfo ib --model</c> does.
/// </summary>
internal static class ModelDemo
{
    private const int Context = 64;
    private const int Stride = 32;

    /// <summary>The IB's β and clusters: a bigram model's contexts are alike when they end in tokens it treats alike.</summary>
    private const double Beta = 10;
    private const int Clusters = 4;

    public static JsonObject Run(InfoEngine engine)
    {
        var clock = Stopwatch.StartNew();
        var tokenizer = TokenizerCatalog.VocabAndMerges(Resource("vocab.json"), Resource("merges.txt"), "embedded BPE (300 tokens)");
        using var reader = new StreamReader(Resource("demo.txt"));
        string content = reader.ReadToEnd();
        var text = tokenizer.Encode(content, "demo.txt");
        using var stream = Resource("demo.onnx");
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        using var model = OnnxLanguageModel.Load(bytes.ToArray(), "demo.onnx", new OnnxModelOptions { ExecutionProvider = "cpu" });
        using var source = new ModelRowSource(model, text, new ModelWindowOptions { Context = Context, Stride = Stride });
        var totals = CorpusRun.Evaluate(engine, source).Evaluation!;
        var ib = engine.InformationBottleneck(ConditionalRows.FromLogits(source), new IbOptions { Beta = Beta, Clusters = Clusters, Restarts = 2 });
        var contexts = new ModelContexts(source, new ModelText(text, tokenizer, content, 0));
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
            ["contexts_alike"] = ContextsAlike(ib, IbRowsInput.Summary(ib, model.Vocab, topTokens: 4, examples: 2, names: null, contexts)),
            ["total_ms"] = Math.Round(clock.Elapsed.TotalMilliseconds, 2),
        };
    }

    /// <summary>The IB's figures, then each cluster's line and its examples, as the demo's key-value rows.</summary>
    private static JsonObject ContextsAlike(IbResult ib, JsonArray summary)
    {
        var section = new JsonObject
        {
            ["ib"] = $"beta {Beta}, {ib.Clusters} clusters of the {ib.Assignments.Length} contexts (one per scored token)",
            ["i_xt_bits"] = ib.IxtBits,
            ["i_ty_bits"] = ib.ItyBits,
            ["i_xy_bits"] = ib.IxyBits,
        };
        string cluster = string.Empty;
        int example = 0;
        foreach (var (key, value) in IbRowsInput.ClusterLines(summary))
        {
            (cluster, example) = key.StartsWith("cluster", StringComparison.Ordinal) ? (key, 0) : (cluster, example + 1);
            section[example == 0 ? cluster : $"{cluster} e.g. {example}"] = value;
        }

        return section;
    }

    private static Stream Resource(string name) =>
        typeof(ModelDemo).Assembly.GetManifestResourceStream("Samples." + name) ?? throw new InvalidOperationException($"the demo's {name} is not embedded in gpuinfo.");
}
