using System.Text.Json.Nodes;
using GpuInfo.Cli;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using GpuInfo.Models;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Corpus;

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
