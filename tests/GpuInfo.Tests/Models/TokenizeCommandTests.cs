using System.Text;
using GpuInfo.Cli;
using GpuInfo.Formats;
using GpuInfo.Models;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary><c>gpuinfo tokenize</c>: the ids perplexity scores, written for <c>--tokens</c>, and what the tokenizer adds.</summary>
public sealed class TokenizeCommandTests
{
    [Fact]
    public void Its_ids_are_what_perplexity_scores_and_read_back_as_tokens()
    {
        using var dir = new TempDir();
        string model = ModelFiles.Path("sp_bpe.model");
        var report = CliRunner.Json("tokenize", "--tokenizer", model, "--text", ModelFiles.SampleText, "--out", dir.File("ids.npy"), "--json");
        var expected = TokenizerCatalog.Load(model).Encode(File.ReadAllText(ModelFiles.SampleText), "sample").Ids;
        using (var file = TargetsFile.Open(dir.File("ids.npy"), role: "token ids"))
        {
            var ids = new long[file.Count];
            file.Read(0, ids);
            Assert.Equal(expected.Select(i => (long)i), ids);
        }

        Assert.Equal(expected.Length, (long)report["tokens"]!);
        Assert.Equal(1, (int)report["begins_each_text"]!);
        Assert.Equal([1], report["added_before"]!.AsArray().Select(i => (int)i!));
        long bytes = Encoding.UTF8.GetByteCount(File.ReadAllText(ModelFiles.SampleText));
        Assert.Equal(bytes, (long)report["bytes"]!);
        Assert.Equal(bytes, (long)report["bytes_counted"]!);
        Assert.StartsWith("SentencePiece BPE", report["kind"]!.GetValue<string>(), StringComparison.Ordinal);

        // The ids as given (their BOS first, unscored) score as the text does.
        string[] common = ["perplexity", "--model", ModelFiles.Path("window.onnx"), "--context", "16", "--device", "cpu", "--json"];
        var byText = CliRunner.Json([.. common, "--text", ModelFiles.SampleText, "--tokenizer", model]);
        var byIds = CliRunner.Json([.. common, "--tokens", dir.File("ids.npy")]);
        Assert.Equal(byText["tokens"]!.ToJsonString(), byIds["tokens"]!.ToJsonString());
        Assert.Equal(byText["mean_nll"]!.ToJsonString(), byIds["mean_nll"]!.ToJsonString());

        // The table form lists what the tokenizer adds on one line.
        var (code, stdout, _) = CliRunner.Run("tokenize", "--tokenizer", model, "--text", ModelFiles.SampleText);
        Assert.Equal(ExitCode.Ok, code);
        Assert.Contains("added_before", stdout, StringComparison.Ordinal);
    }

    /// <summary>The report names a tokenizer.json's normalizer by its steps, a Unicode form with what applies it; a .model's removal of extra spaces; none for a vocab.json.</summary>
    [Fact]
    public void It_names_the_normalizer_and_what_applies_it()
    {
        using var dir = new TempDir();
        ModelFiles.WriteTokenizerJson(dir.File("tokenizer.json"), normalizer: """{"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"}]}""");
        var report = CliRunner.Json("tokenize", "--tokenizer", dir.File("tokenizer.json"), "--text", ModelFiles.SampleText, "--json");
        Assert.Equal($"NFKC ({UnicodeForms.Source}), Lowercase", report["normalizer"]!.GetValue<string>());
        Assert.Equal(report["bytes"]!.GetValue<long>(), report["bytes_counted"]!.GetValue<long>()); // NFKC leaves the sample as it is; Lowercase keeps track
        Assert.Null(CliRunner.Json("tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", ModelFiles.SampleText, "--json")["normalizer"]);
        Assert.Equal("identity, remove_extra_whitespaces (SentencePiece)",
            CliRunner.Json("tokenize", "--tokenizer", ModelFiles.Path("sp_bpe_spaces.model"), "--text", ModelFiles.SampleText, "--json")["normalizer"]!.GetValue<string>());
    }

    [Fact]
    public void Bad_input_is_a_one_line_error()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("junk.json"), "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}");
        CliRunner.Fails(ExitCode.Usage, ["writes one document's ids", "documents.jsonl:2 is a second document", "--out a .safetensors tokenized corpus"],
            "tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", ModelFiles.Path("documents.jsonl"), "--out", dir.File("ids.npy"));
        CliRunner.Fails(ExitCode.BadData, ["junk.json", "empty model.vocab"], "tokenize", "--tokenizer", dir.File("junk.json"), "--text", ModelFiles.SampleText);
        CliRunner.Fails(ExitCode.Usage, ["--tokenizer"], "tokenize", "--text", ModelFiles.SampleText);
        Assert.False(File.Exists(dir.File("ids.npy")));
    }
}
