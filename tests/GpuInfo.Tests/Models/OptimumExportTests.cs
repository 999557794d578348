using System.Text.Json.Nodes;
using GpuInfo.Cli;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Models;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Corpus;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// Models exported by optimum's own exporter (optimum/make_optimum_exports.py): with their KV cache,
/// as a merged decoder, and the legacy one-token decoder, against PyTorch's float64 sliding-window NLL.
/// </summary>
public sealed class OptimumExportTests(CorpusEngineFixture fixture) : IClassFixture<CorpusEngineFixture>
{
    private static string File(string name) => ModelFiles.Path(Path.Combine("optimum", name));

    private static JsonObject Reference => (JsonObject)JsonNode.Parse(System.IO.File.ReadAllText(File("reference.json")))!;

    [Theory]
    [InlineData("llama_gqa_with_past.onnx", "llama_gqa")]
    [InlineData("gpt2_with_past.onnx", "gpt2")]
    [InlineData("gpt2_decoder_model_merged.onnx", "gpt2")]
    public void Exports_score_as_pytorch_does_in_float64(string file, string model)
    {
        var ids = TokenizedText.ReadIds(File("ids.npy"));
        using var onnx = OnnxLanguageModel.Open(File(file));
        foreach (var (windows, expected) in Reference[model]!.AsObject())
        {
            int context = int.Parse(windows.Split('/')[0]), stride = int.Parse(windows.Split('/')[1]);
            using var source = new ModelRowSource(onnx, ids, new ModelWindowOptions { Context = context, Stride = stride, Batch = 3 });
            var totals = CorpusRun.Evaluate(fixture.Engine, source).Evaluation!;
            double mean = expected!["mean_nll"]!.GetValue<double>();
            Assert.Equal(expected["scored"]!.GetValue<long>(), totals.Tokens);
            Assert.True(Math.Abs(totals.MeanNll - mean) <= 1e-6 * mean, $"{file} {windows}: {totals.MeanNll:R} against PyTorch's {mean:R}");
        }
    }

    /// <summary>
    /// Three documents of the ids, each after the prefix token, against PyTorch's float64 NLL over the
    /// windows lm-evaluation-harness's own get_rolling_token_windows and make_disjoint_window cut
    /// (optimum/make_rolling_reference.py): through the library, and through the command line with
    /// one ids file per document.
    /// </summary>
    [Theory]
    [InlineData("llama_gqa_with_past.onnx", "llama_gqa")]
    [InlineData("gpt2_with_past.onnx", "gpt2")]
    [InlineData("gpt2_decoder_model_merged.onnx", "gpt2")]
    public void Rolling_windows_over_documents_score_as_lm_evaluation_harness_does(string file, string model)
    {
        var rolling = Reference["rolling"]!;
        var ids = TokenizedText.ReadIds(File("ids.npy")).Ids;
        var spans = rolling["documents"]!.AsArray().Select(d => (Begin: d![0]!.GetValue<int>(), End: d[1]!.GetValue<int>())).ToList();
        int prefix = rolling["prefix_token"]!.GetValue<int>();
        var documents = spans.Select((d, i) => new TokenizedText(ids[d.Begin..d.End], null, $"document {i}", "ids")).ToList();
        var text = TokenizedText.Join(documents, prefix, "ids.npy");
        using var dir = new TempDir();
        var files = documents.Select((d, i) =>
        {
            string path = dir.File($"doc{i}.npy");
            NpyFormat.Write<int>(path, d.Ids, [d.Ids.Length]);
            return path;
        }).ToArray();
        using var onnx = OnnxLanguageModel.Open(File(file));
        foreach (var (maxLength, expected) in rolling[model]!.AsObject())
        {
            double mean = expected!["mean_nll"]!.GetValue<double>();
            using var source = new ModelRowSource(onnx, text, new ModelWindowOptions { Protocol = WindowProtocol.Rolling, Context = int.Parse(maxLength), Batch = 2 });
            var totals = CorpusRun.Evaluate(fixture.Engine, source).Evaluation!;
            Assert.Equal(expected["scored"]!.GetValue<long>(), totals.Tokens);
            Assert.True(Math.Abs(totals.MeanNll - mean) <= 1e-6 * mean, $"{file} rolling {maxLength}: {totals.MeanNll:R} against lm-evaluation-harness's windows in PyTorch, {mean:R}");

            var report = CliRunner.Json(["perplexity", "--model", File(file), "--tokens", .. files, "--protocol", "rolling", "--prefix-token", $"{prefix}", "--context", maxLength, "--device", "cpu", "--json"]);
            Assert.Equal(totals.Tokens, (long)report["tokens"]!);
            Assert.Equal(0, (long)report["unscored"]!);
            Assert.True(Math.Abs(CliRunner.Number(report["mean_nll"]) - mean) <= 1e-6 * mean, $"{file} rolling {maxLength} from the command line: {report["mean_nll"]}");
        }
    }

    [Fact]
    public void A_decoder_exported_for_one_token_after_its_cache_is_refused_as_not_causal()
    {
        string path = File("llama_gqa_decoder_with_past_model.onnx");
        var e = Assert.Throws<InvalidFileException>(() => OnnxLanguageModel.Open(path));
        Assert.Equal(path, e.Path);
        CliRunner.Fails(ExitCode.BadData, [$"{path}: is not causal as run here", "decoder_model_merged.onnx"],
            "perplexity", "--model", path, "--tokens", File("ids.npy"), "--context", "64", "--device", "cpu");
    }
}
