using System.Text.Json.Nodes;
using GpuInfo.Cli;
using GpuInfo.Formats;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// compare-models with a llama.cpp .kld base: the model scores the file's tokens in llama.cpp's chunks,
/// row for row. The base here is window.onnx's own logits over 3 chunks of 16 (BOS 0 in place of each
/// chunk's first token, make_models.py: chunks_logits.npy), written as llama-perplexity would by convert.
/// </summary>
public sealed class ModelKldTests
{
    private static string Base(TempDir dir)
    {
        string path = dir.File("base.kld");
        CliRunner.Json("convert", "--logits", ModelFiles.Path("chunks_logits.npy"), "--tokens", ModelFiles.Path("chunks_tokens.npy"), "--out", path, "--json");
        return path;
    }

    private static JsonObject Compare(params string[] args) => CliRunner.Json(["compare-models", .. args, "--device", "cpu", "--json"]);

    [Fact]
    public void A_model_against_its_own_llama_cpp_base_reads_no_divergence()
    {
        using var dir = new TempDir();
        string kld = Base(dir);
        var same = Compare("--base", kld, "--test", ModelFiles.Path("window.onnx"), "--prefix-token", "0");
        Assert.Equal(3 * (16 - 1 - 8), (long)same["tokens"]!);
        Assert.True(CliRunner.Number(same["mean_kld"]) < 1e-7, $"mean KL {same["mean_kld"]}: only the .kld's 16-bit log-probabilities differ");
        Assert.Equal(1.0, CliRunner.Number(same["same_top1"]));
        Assert.Equal(CliRunner.Number(same["ppl_base"]), CliRunner.Number(same["ppl_test"]), 1e-4 * CliRunner.Number(same["ppl_base"]));
        Assert.Equal("chunks", same["protocol"]!.GetValue<string>());
        Assert.Equal(16, (int)same["context"]!);

        // Without llama.cpp's BOS in place of each later chunk's first token the model sees other inputs, and a note says so.
        var (code, stdout, stderr) = CliRunner.Run("compare-models", "--base", kld, "--test", ModelFiles.Path("window.onnx"), "--prefix-token", "none", "--device", "cpu", "--json");
        Assert.Equal(0, code);
        Assert.Contains("note: --prefix-token none", stderr, StringComparison.Ordinal);
        var noBos = (JsonObject)JsonNode.Parse(stdout)!;
        Assert.True(CliRunner.Number(noBos["mean_kld"]) > 1e-2, $"mean KL {noBos["mean_kld"]}");

        // Either side may be the file: the other direction's KL is this one's reverse.
        var reversed = Compare("--base", ModelFiles.Path("bigram.onnx"), "--test", kld, "--prefix-token", "0");
        var forward = Compare("--base", kld, "--test", ModelFiles.Path("bigram.onnx"), "--prefix-token", "0");
        Assert.Equal(CliRunner.Number(forward["mean_kld"]), CliRunner.Number(reversed["mean_reverse_kld"]), 1e-6 * CliRunner.Number(forward["mean_kld"]));
    }

    /// <summary>The .kld base reads as the model it was made from would, scored in chunks over the same tokens.</summary>
    [Fact]
    public void A_llama_cpp_base_reads_as_its_model_in_chunks()
    {
        using var dir = new TempDir();
        string kld = Base(dir);
        string ids = dir.File("ids.npy");
        NpyFormat.Write<int>(ids, CliRunner.NpyValues<int>(ModelFiles.Path("chunks_tokens.npy")), [48]);
        var fromFile = Compare("--base", kld, "--test", ModelFiles.Path("bigram.onnx"), "--prefix-token", "0");
        var fromModel = Compare("--base", ModelFiles.Path("window.onnx"), "--test", ModelFiles.Path("bigram.onnx"), "--tokens", ids, "--protocol", "chunks", "--context", "16", "--prefix-token", "0");
        foreach (string key in new[] { "mean_kld", "mean_js", "ppl_base", "ppl_test", "same_top1" })
        {
            double a = CliRunner.Number(fromFile[key]), b = CliRunner.Number(fromModel[key]);
            // The .kld holds 16-bit log-probabilities: the base's perplexity moves by 1.3e-5 of itself.
            Assert.True(Math.Abs(a - b) <= 1e-4 * Math.Abs(b), $"{key}: {a} from the .kld, {b} from the model");
        }
    }

    [Fact]
    public void Options_that_do_not_fit_a_kld_base_are_usage_errors()
    {
        using var dir = new TempDir();
        string kld = Base(dir);
        string model = ModelFiles.Path("window.onnx");
        CliRunner.Fails(ExitCode.Usage, ["is a llama.cpp .kld file: give --prefix-token with llama.cpp's BOS id", "first token, 0"], "compare-models", "--base", kld, "--test", model, "--device", "cpu");
        CliRunner.Fails(ExitCode.Usage, ["--prefix-token 5:", "begins with token 0, not that BOS"], "compare-models", "--base", kld, "--test", model, "--prefix-token", "5", "--device", "cpu");
        CliRunner.Fails(ExitCode.Usage, ["--text:", "carries the tokens it scores"], "compare-models", "--base", kld, "--test", model, "--prefix-token", "0", "--text", ModelFiles.SampleText, "--device", "cpu");
        CliRunner.Fails(ExitCode.Usage, ["--protocol rolling:", "llama.cpp's chunks"], "compare-models", "--base", kld, "--test", model, "--prefix-token", "0", "--protocol", "rolling", "--device", "cpu");
        CliRunner.Fails(ExitCode.Usage, ["--context 32:", "chunks of 16 tokens"], "compare-models", "--base", kld, "--test", model, "--prefix-token", "0", "--context", "32", "--device", "cpu");
        CliRunner.Fails(ExitCode.Usage, ["are both llama.cpp .kld files", "gpuinfo compare"], "compare-models", "--base", kld, "--test", kld, "--device", "cpu");
        CliRunner.Fails(ExitCode.BadData, ["vocabulary 100 differs from the base's 300"], "compare-models", "--base", kld, "--test", ModelFiles.Path("small_vocab.onnx"), "--prefix-token", "0", "--device", "cpu");
    }
}
