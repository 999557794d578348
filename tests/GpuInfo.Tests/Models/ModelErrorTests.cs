using GpuInfo.Cli;
using GpuInfo.Formats;
using GpuInfo.Models;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>Malformed models and mismatched inputs: one-line errors naming the file, with the documented exit codes.</summary>
public sealed class ModelErrorTests
{
    private static string[] Perplexity(string model, params string[] more) =>
        ["perplexity", "--model", model, .. more.Length > 0 ? more : ["--tokenizer", ModelFiles.VocabJson, "--text", ModelFiles.SampleText], "--device", "cpu"];

    [Theory]
    [InlineData("bad_rank.onnx", "rank 2")]
    [InlineData("small_vocab.onnx", "vocabulary 100")]
    [InlineData("no_input_ids.onnx", "no input named input_ids")]
    [InlineData("token_type_ids.onnx", "needs the input token_type_ids, which is not fed here")]
    [InlineData("noncausal.onnx", "is not causal as run here")]
    [InlineData("noncausal_batch_one.onnx", "is not causal as run here")]
    [InlineData("needs_past.onnx", "ONNX Runtime failed on a 4-token window with the model's past_key_values fed empty")]
    [InlineData("static_past.onnx", "input past_key_values.0.key is a past of fixed length [-1, 2, 8, 4]")]
    [InlineData("int_past.onnx", "input past_key_values.0.key is Int64 of rank 4; expected a float32, float16 or bfloat16 KV cache")]
    [InlineData("junk.onnx", "not an ONNX model")]
    [InlineData("missing.onnx", "no such model file")]
    public void Malformed_models_are_one_line_errors_naming_the_file(string name, string problem)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("junk.onnx"), "this is not a protobuf");
        string path = name is "junk.onnx" or "missing.onnx" ? dir.File(name) : ModelFiles.Path(name);
        var (code, stdout, stderr) = CliRunner.Run(Perplexity(path));
        Assert.Equal(ExitCode.BadData, code);
        Assert.Empty(stdout);
        Assert.StartsWith($"gpuinfo: {path}: ", stderr, StringComparison.Ordinal);
        Assert.Contains(problem, stderr, StringComparison.Ordinal);
        Assert.Equal(1, stderr.Count(c => c == '\n'));
    }

    /// <summary>-inf logits (a token a model masks) are alike in both windows of the causality check: the model opens.</summary>
    /// <summary>
    /// A text too short for its windows is the text's fault (exit 3, naming it), where it was a usage
    /// error; a --text-field without a .jsonl is refused by tokenize as by perplexity; and a text whose
    /// bytes begin with a UTF-16 byte order mark (FF FE) is not UTF-8, where .NET read it as UTF-16.
    /// </summary>
    [Fact]
    public void A_text_with_nothing_to_score_or_not_utf8_is_bad_data_naming_it()
    {
        using var dir = new TempDir();
        string shortText = dir.File("short.txt"), utf16 = dir.File("utf16.txt");
        File.WriteAllText(shortText, "a few words");
        CliRunner.Fails(ExitCode.BadData, ["short.txt", "nothing to score"], Perplexity(ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--text", shortText, "--context", "64", "--protocol", "chunks"));
        CliRunner.Fails(ExitCode.Usage, ["--text-field", ".jsonl"], "tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", shortText, "--text-field", "body");
        File.WriteAllBytes(utf16, [0xFF, 0xFE, (byte)'a', 0x00, 0xC3, 0x28]);
        CliRunner.Fails(ExitCode.BadData, ["utf16.txt", "not UTF-8"], "tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", utf16);
    }

    [Fact]
    public void A_causal_model_with_masked_tokens_opens()
    {
        using var model = OnnxLanguageModel.Open(ModelFiles.Path("masked_token.onnx"));
        Assert.Equal(ModelFiles.Vocab, model.Vocab);
        Assert.Equal(0, model.RunSeconds); // the check's runs are not the text's
    }

    [Fact]
    public void A_text_too_long_to_read_whole_is_one_line_naming_it()
    {
        using var dir = new TempDir();
        string text = dir.File("huge.txt");
        using (var file = File.Create(text))
        {
            file.SetLength(GpuInfo.Cli.ModelDocuments.MaxTextBytes + 1); // sparse: no bytes written
        }

        CliRunner.Fails(ExitCode.BadData, [$"{text}: is {GpuInfo.Cli.ModelDocuments.MaxTextBytes + 1} bytes", "--tokens"],
            Perplexity(ModelFiles.Path("bigram.onnx"), "--tokenizer", ModelFiles.VocabJson, "--text", text));
    }

    [Fact]
    public void Ids_beyond_the_models_vocabulary_name_the_model_and_the_ids_file()
    {
        using var dir = new TempDir();
        NpyFormat.Write<long>(dir.File("ids.npy"), [1, 2, 250, 3], [4]);
        var (code, _, stderr) = CliRunner.Run(Perplexity(ModelFiles.Path("small_vocab.onnx"), "--tokens", dir.File("ids.npy")));
        Assert.Equal(ExitCode.BadData, code);
        Assert.Contains("has no token 250", stderr, StringComparison.Ordinal);
        Assert.Contains(dir.File("ids.npy"), stderr, StringComparison.Ordinal);

        var e = Assert.Throws<InvalidFileException>(() =>
        {
            using var model = OnnxLanguageModel.Open(ModelFiles.Path("small_vocab.onnx"));
            using var source = new ModelRowSource(model, ModelFiles.Sample());
        });
        Assert.Equal(ModelFiles.Path("small_vocab.onnx"), e.Path);
    }

    [Fact]
    public void A_window_beyond_the_models_positions_is_one_line_naming_the_model()
    {
        var (code, _, stderr) = CliRunner.Run(Perplexity(ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--text", ModelFiles.SampleText, "--context", "100", "--stride", "50"));
        Assert.Equal(ExitCode.BadData, code);
        Assert.StartsWith($"gpuinfo: {ModelFiles.Path("window.onnx")}: reading rows [0, 99): ", stderr, StringComparison.Ordinal);
        Assert.Contains("windows of 100 tokens", stderr, StringComparison.Ordinal);
        Assert.Contains("shorter context window", stderr, StringComparison.Ordinal);
        Assert.Equal(stderr.IndexOf(ModelFiles.Path("window.onnx"), StringComparison.Ordinal), stderr.LastIndexOf(ModelFiles.Path("window.onnx"), StringComparison.Ordinal));
        Assert.Equal(1, stderr.Count(c => c == '\n'));
    }

    /// <summary>--context alone brings its own stride (half of it), and every token left unscored is counted: the text's first, and each disjoint window's first.</summary>
    [Fact]
    public void The_stride_defaults_to_half_the_context_and_unscored_tokens_are_counted()
    {
        string window = ModelFiles.Path("window.onnx"), tokens = ModelFiles.Path("sample_tokens.npy");
        long n = NpyFormat.Read(tokens).Shape[0];
        var halved = CliRunner.Json("perplexity", "--model", window, "--tokens", tokens, "--context", "32");
        Assert.Equal(16, (int)halved["stride"]!);
        Assert.Equal(1, (long)halved["unscored"]!);
        Assert.Equal(n, (long)halved["tokens"]! + (long)halved["unscored"]!);
        var disjoint = CliRunner.Json("perplexity", "--model", window, "--tokens", tokens, "--context", "8", "--stride", "8");
        Assert.Equal((long)Math.Ceiling(n / 8.0), (long)disjoint["unscored"]!);
        Assert.Equal(n, (long)disjoint["tokens"]! + (long)disjoint["unscored"]!);
        var compared = CliRunner.Json("compare-models", "--base", window, "--test", window, "--tokens", tokens, "--context", "8", "--stride", "8");
        Assert.Equal((long)disjoint["unscored"]!, (long)compared["unscored"]!);
    }

    [Theory]
    [InlineData("--context", "1")]
    [InlineData("--stride", "0")]
    [InlineData("--stride", "2000")]
    [InlineData("--batch", "0")]
    [InlineData("--provider", "tpu")]
    public void Bad_windows_and_providers_are_usage_errors(string option, string value)
    {
        var (code, _, stderr) = CliRunner.Run([.. Perplexity(ModelFiles.Path("bigram.onnx")), option, value]);
        Assert.Equal(ExitCode.Usage, code);
        Assert.Contains(option, stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Top_k_beyond_the_models_vocabulary_is_a_usage_error() =>
        CliRunner.Fails(ExitCode.Usage, ["--top-k 301", $"vocabulary ({ModelFiles.Vocab} tokens)"], [.. Perplexity(ModelFiles.Path("bigram.onnx")), "--top-k", "5,301"]);

    [Fact]
    public void Text_and_ids_are_one_or_the_other()
    {
        string bigram = ModelFiles.Path("bigram.onnx");
        Assert.Equal(ExitCode.Usage, CliRunner.Run(Perplexity(bigram, "--tokenizer", ModelFiles.VocabJson)).Code);
        Assert.Equal(ExitCode.Usage, CliRunner.Run(Perplexity(bigram, "--text", ModelFiles.SampleText)).Code);
        Assert.Equal(ExitCode.Usage, CliRunner.Run(Perplexity(bigram, "--text", ModelFiles.SampleText, "--tokens", ModelFiles.Path("sample_tokens.npy"))).Code);
        var (code, _, stderr) = CliRunner.Run(Perplexity(bigram, "--tokenizer", ModelFiles.VocabJson, "--text", ModelFiles.Path("missing.txt")));
        Assert.Equal(ExitCode.BadData, code);
        Assert.Contains("missing.txt", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Asking_for_cuda_without_its_provider_is_a_device_error_and_auto_says_why_it_fell_back()
    {
        Assert.SkipWhen(Environment.GetEnvironmentVariable("GPUINFO_TEST_ORT_CUDA") == "1", "this machine's ONNX Runtime has the CUDA provider");
        var (code, _, stderr) = CliRunner.Run([.. Perplexity(ModelFiles.Path("bigram.onnx")), "--provider", "cuda"]);
        Assert.Equal(ExitCode.Device, code);
        Assert.Contains("CUDA provider unavailable", stderr, StringComparison.Ordinal);

        using var model = OnnxLanguageModel.Open(ModelFiles.Path("bigram.onnx"));
        Assert.Matches(@"^cpu \((\d+ threads?|ONNX Runtime's default threads); CUDA provider unavailable: ", model.Provider);
    }
}
