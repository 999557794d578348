using System.Runtime.InteropServices;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Models;
using GpuInfo.Tests.Corpus;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>Perplexity straight from ONNX models: against closed forms, NumPy goldens, and the corpus machinery's guarantees.</summary>
public sealed class ModelPerplexityTests(CorpusEngineFixture fixture) : IClassFixture<CorpusEngineFixture>
{
    private readonly InfoEngine _engine = fixture.Engine;

    private static ModelRowSource Source(OnnxLanguageModel model, TokenizedText text, int context, int stride, int batch = 1) =>
        new(model, text, new ModelWindowOptions { Context = context, Stride = stride, Batch = batch });

    [Theory]
    [InlineData(32, 32)]
    [InlineData(32, 8)]
    [InlineData(1024, 512)]
    [InlineData(16, 1)]
    public void Bigram_perplexity_equals_the_closed_form(int context, int stride)
    {
        var text = ModelFiles.Sample();
        using var model = OnnxLanguageModel.Open(ModelFiles.Path("bigram.onnx"), new OnnxModelOptions { ExecutionProvider = "cpu" });
        using var source = Source(model, text, context, stride);
        var totals = CorpusRun.Evaluate(_engine, source).Evaluation!;

        var (sum, count) = BigramClosedForm.Total(text.Ids, context, stride, ModelFiles.Vocab);
        Assert.Equal(count, totals.Tokens);
        Assert.Equal(sum / count, totals.MeanNll, 1e-6 * (sum / count));
        Assert.Equal(Math.Exp(sum / count), totals.Perplexity, 1e-6 * Math.Exp(sum / count));
    }

    /// <summary>
    /// The plain models, and their twins exported with a KV cache (past_key_values inputs; a merged
    /// decoder's use_cache_branch), whose logits match only when the past is fed empty and the branch false.
    /// </summary>
    [Theory]
    [InlineData("bigram.onnx", "window.onnx")]
    [InlineData("bigram_merged.onnx", "window_past.onnx")]
    [InlineData("bigram_keep.onnx", "window_past.onnx")]
    public void Sliding_windows_match_the_numpy_evaluation(string bigram, string window)
    {
        var golden = ModelFiles.Golden;
        var text = TokenizedText.ReadIds(ModelFiles.Path("sample_tokens.npy"));
        Assert.Equal(golden["tokens"]!.GetValue<int>(), text.Ids.Length);
        var models = new Dictionary<string, OnnxLanguageModel>
        {
            ["bigram"] = OnnxLanguageModel.Open(ModelFiles.Path(bigram)),
            ["window"] = OnnxLanguageModel.Open(ModelFiles.Path(window)),
        };
        try
        {
            var results = new Dictionary<string, double>();
            foreach (var run in golden["runs"]!.AsArray())
            {
                string name = run!["model"]!.GetValue<string>();
                int context = run["context"]!.GetValue<int>(), stride = run["stride"]!.GetValue<int>();
                using var source = Source(models[name], text, context, stride, batch: 3);
                var totals = CorpusRun.Evaluate(_engine, source).Evaluation!;
                double expected = run["nll_sum"]!.GetValue<double>();
                Assert.Equal(run["scored"]!.GetValue<long>(), totals.Tokens);
                Assert.True(Math.Abs(totals.NllSum - expected) <= 1e-6 * expected, $"{name} {context}/{stride}: {totals.NllSum} against NumPy's {expected}");
                results[$"{name} {context}/{stride}"] = totals.MeanNll;
            }

            // The window model's figures depend on the windows (the test can tell strides apart); the bigram's do not.
            Assert.NotEqual(results["window 32/8"], results["window 48/13"], 3);
            Assert.Equal(results["bigram 32/8"], results["bigram 48/13"], 12);
        }
        finally
        {
            foreach (var model in models.Values)
            {
                model.Dispose();
            }
        }
    }

    [Fact]
    public void Batches_shards_and_chunk_sizes_give_the_same_bits()
    {
        var text = ModelFiles.Sample();
        using var model = OnnxLanguageModel.Open(ModelFiles.Path("window.onnx"));
        using var one = Source(model, text, 24, 7);
        var reference = CorpusRun.Evaluate(_engine, one, null, new CorpusRunOptions { TopK = [1, 5] }).Evaluation!;

        using var batched = Source(model, text, 24, 7, batch: 4);
        var small = CorpusRun.Evaluate(_engine, batched, null, new CorpusRunOptions { TopK = [1, 5], ChunkBytes = 3 * ModelFiles.Vocab * 4 }).Evaluation!;
        var merged = CorpusPartial.Merge(Enumerable.Range(0, 3).Select(i =>
            CorpusRun.Evaluate(_engine, batched, null, new CorpusRunOptions { TopK = [1, 5], Shard = new Shard(i, 3) }))).Evaluation!;
        foreach (var t in new[] { small, merged })
        {
            Assert.Equal(reference.Tokens, t.Tokens);
            Assert.Equal(reference.NllSum, t.NllSum);
            Assert.Equal(reference.EntropySum, t.EntropySum);
            Assert.Equal(reference.TopKHits[5], t.TopKHits[5]);
            Assert.Equal(reference.ScoredBytes, t.ScoredBytes);
            Assert.Equal(reference.ScoredWords, t.ScoredWords);
        }

        // The words of the scored tokens (all but the first here): the text's words less the first token's.
        int[] textWords = text.Words!, textBytes = text.Bytes!;
        Assert.Equal(textWords.Sum() - textWords[0], reference.ScoredWords);
        Assert.Equal(textBytes.Sum() - textBytes[0], reference.ScoredBytes);

        // On the CPU the model runs in turn with the measures, not a chunk ahead: one batch of logits is all a run holds.
        Assert.True(model.RunsOnCpu);
        Assert.False(batched.ReadAhead);
        Assert.Equal(1, one.BuffersAllocated);
        Assert.Equal(1, batched.BuffersAllocated);
    }

    [Theory]
    [InlineData("window.onnx", "sample.txt", ScalarType.Float32)]
    [InlineData("Samples/demo.onnx", "Samples/demo.txt", ScalarType.Float16)]
    public void Perplexity_equals_eval_over_the_same_logits_dumped_to_npy(string modelName, string textName, ScalarType type)
    {
        string modelPath = ModelFiles.Path(modelName), textPath = ModelFiles.Path(textName);
        var text = TokenizerCatalog.Load(ModelFiles.VocabJson).Encode(File.ReadAllText(textPath), textPath);
        using var dir = new TempDir();
        using var model = OnnxLanguageModel.Open(modelPath);
        Assert.Equal(type, model.Type);
        using var source = Source(model, text, 32, 8);
        var logits = new List<byte>();
        var targets = new List<long>();
        var bytes = new List<long>();
        var block = new RowBlock(8, source.Vocab, source.Type, true, true, hasTargetWords: true);
        for (long first = 0; first < source.Rows;)
        {
            RowSource rows = source;
            block.Reset(first, rows.ChunkRows(first, (int)Math.Min(8, source.Rows - first)));
            rows.Read(block);
            var values = block.Logits;
            logits.AddRange(MemoryMarshal.CreateReadOnlySpan(in values.Start, checked((int)values.ElementCount * (type == ScalarType.Float32 ? 4 : 2))).ToArray());
            targets.AddRange(block.Targets.ToArray());
            bytes.AddRange(block.TargetBytes.ToArray());
            first += block.Rows;
        }

        long[] shape = [targets.Count, source.Vocab];
        if (type == ScalarType.Float32)
        {
            NpyFormat.Write<float>(dir.File("logits.npy"), MemoryMarshal.Cast<byte, float>(logits.ToArray()), shape);
        }
        else
        {
            NpyFormat.Write<Half>(dir.File("logits.npy"), MemoryMarshal.Cast<byte, Half>(logits.ToArray()), shape);
        }

        NpyFormat.Write<long>(dir.File("targets.npy"), targets.ToArray(), [targets.Count]);
        NpyFormat.Write<long>(dir.File("bytes.npy"), bytes.ToArray(), [targets.Count]);
        var eval = Cli.CliRunner.Json("eval", "--logits", dir.File("logits.npy"), "--targets", dir.File("targets.npy"), "--bytes", dir.File("bytes.npy"), "--device", "cpu");
        var ppl = Cli.CliRunner.Json("perplexity", "--model", modelPath, "--tokenizer", ModelFiles.VocabJson, "--text", textPath,
            "--context", "32", "--stride", "8", "--device", "cpu");
        foreach (string key in new[] { "tokens", "mean_nll", "mean_nll_se", "perplexity", "bits_per_token", "mean_entropy", "top1_accuracy", "bits_per_byte" })
        {
            Assert.Equal(eval[key]!.ToJsonString(), ppl[key]!.ToJsonString());
        }
    }
}
