using System.Text.Json.Nodes;
using GpuInfo.Formats;
using GpuInfo.Models;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// A model given as the folder an export lays out (optimum's model.onnx or decoder_model_merged.onnx beside its
/// tokenizer; transformers.js's onnx/model.onnx among quantized variants, the tokenizer above): its model file and
/// tokenizer found, and every figure as with the files named.
/// </summary>
public sealed class ModelFolderTests
{
    private static string Export(TempDir dir, string folder, params (string Name, string Source)[] files)
    {
        string root = dir.File(folder);
        foreach (var (name, source) in files)
        {
            string path = Path.Combine(root, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.Copy(ModelFiles.Path(source), path);
        }

        return root;
    }

    private static readonly (string, string)[] Tokenizer = [("vocab.json", "vocab.json"), ("merges.txt", "merges.txt")];

    [Fact]
    public void The_model_file_of_a_folder_is_the_one_an_export_names()
    {
        using var dir = new TempDir();
        string optimum = Export(dir, "optimum", [("decoder_model.onnx", "window.onnx"), ("decoder_model_merged.onnx", "bigram_merged.onnx"), .. Tokenizer]);
        Assert.Equal(Path.Combine(optimum, "decoder_model_merged.onnx"), OnnxModelFolder.ModelFile(optimum));
        Assert.Equal(optimum, OnnxModelFolder.TokenizerFolder(optimum));

        string js = Export(dir, "js", [("onnx/model.onnx", "window.onnx"), ("onnx/model_quantized.onnx", "window.onnx"), .. Tokenizer]);
        Assert.Equal(Path.Combine(js, "onnx", "model.onnx"), OnnxModelFolder.ModelFile(js));
        Assert.Equal(Path.GetFullPath(js), Path.GetFullPath(OnnxModelFolder.TokenizerFolder(Path.Combine(js, "onnx"))!));
        Assert.Null(OnnxModelFolder.TokenizerFolder(Path.Combine(js, "onnx", "model.onnx"))); // a file's folder may hold other models' tokenizers

        string one = Export(dir, "one", [("tiny.onnx", "window.onnx")]);
        Assert.Equal(Path.Combine(one, "tiny.onnx"), OnnxModelFolder.ModelFile(one));
        Assert.Null(OnnxModelFolder.TokenizerFolder(one));

        string two = Export(dir, "two", [("a.onnx", "window.onnx"), ("b.onnx", "window.onnx")]);
        var several = Assert.Throws<InvalidFileException>(() => OnnxModelFolder.ModelFile(two));
        Assert.Contains("give one of a.onnx, b.onnx", several.Message);
        Directory.CreateDirectory(dir.File("empty"));
        Assert.Contains("holding no .onnx model", Assert.Throws<InvalidFileException>(() => OnnxModelFolder.ModelFile(dir.File("empty"))).Message);
    }

    [Fact]
    public void Verbs_take_an_export_folder_for_its_model_and_tokenizer()
    {
        using var dir = new TempDir();
        string js = Export(dir, "js", [("onnx/model.onnx", "window.onnx"), ("onnx/model_q4.onnx", "window.onnx"), .. Tokenizer]);
        string[] perplexity = ["perplexity", "--text", ModelFiles.SampleText, "--context", "16", "--device", "cpu", "--json", "--model"];
        var named = CliRunner.Json([.. perplexity, ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson]);
        var folder = CliRunner.Json([.. perplexity, js]);
        foreach (string key in new[] { "tokens", "mean_nll", "perplexity", "bits_per_byte", "windows" })
        {
            Assert.True(JsonNode.DeepEquals(named[key], folder[key]), key);
        }

        Assert.Equal(Path.Combine(js, "onnx", "model.onnx"), (string)folder["model"]!);

        string[] loglikelihood = ["loglikelihood", "--text", ModelFiles.Path("documents.jsonl"), "--context", "64", "--device", "cpu", "--bootstrap-iters", "0", "--json", "--model"];
        var requests = CliRunner.Json([.. loglikelihood, ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson]);
        var fromFolder = CliRunner.Json([.. loglikelihood, js]);
        Assert.True(JsonNode.DeepEquals(requests["acc"], fromFolder["acc"]));
        Assert.True(JsonNode.DeepEquals(requests["perplexity"], fromFolder["perplexity"]));

        // A folder without a tokenizer needs --tokenizer, and says where it looked.
        string bare = Export(dir, "bare", [("model.onnx", "window.onnx")]);
        CliRunner.Fails(2, ["--text needs --tokenizer", $"none beside {bare}"], [.. perplexity, bare]);
        CliRunner.Fails(2, ["give --tokenizer", $"beside {bare}"], [.. loglikelihood, bare]);
        string two = Export(dir, "two", [("a.onnx", "window.onnx"), ("b.onnx", "window.onnx"), .. Tokenizer]);
        CliRunner.Fails(3, [two, "give one of a.onnx, b.onnx"], [.. perplexity, two]);
    }
}
