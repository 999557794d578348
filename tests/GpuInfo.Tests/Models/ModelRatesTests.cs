using GpuInfo.Cli;
using GpuInfo.Formats;
using GpuInfo.Models;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// perplexity's rates per byte and per word over the scored tokens' own bytes and words, the whole
/// text's totals with ids, and the errors of texts too short and batches too large.
/// </summary>
public sealed class ModelRatesTests
{
    private static string[] Run(string model, params string[] more) => ["perplexity", "--model", ModelFiles.Path(model), .. more, "--device", "cpu"];

    private static string[] SampleText(int context, int stride) =>
        ["--tokenizer", ModelFiles.VocabJson, "--text", ModelFiles.SampleText, "--context", $"{context}", "--stride", $"{stride}"];

    private static double NllSum(System.Text.Json.Nodes.JsonObject report) => CliRunner.Number(report["mean_nll"]) * (long)report["tokens"]!;

    /// <summary>The audit's repro: 'é' is the byte-level tokens C3 (unscored, the text's first) and A9 (scored): A9's byte counts, 11 bytes in all, not 10.</summary>
    [Fact]
    public void Bits_per_byte_count_a_scored_token_inside_a_character_split_over_tokens()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("e.txt"), "é a b c d e");
        foreach (int stride in new[] { 16, 32 })
        {
            var report = CliRunner.Json(Run("bigram.onnx", "--tokenizer", ModelFiles.VocabJson, "--text", dir.File("e.txt"), "--context", "32", "--stride", $"{stride}"));
            Assert.Equal(8, (long)report["tokens"]!);
            double bits = NllSum(report) / (11 * Math.Log(2));
            Assert.Equal(bits, CliRunner.Number(report["bits_per_byte"]), 1e-9 * bits);
            Assert.Equal(9.051984, CliRunner.Number(report["bits_per_byte"]), 1e-5); // the audit's float64 reference
        }
    }

    /// <summary>word_perplexity divides the scored tokens' NLL by the words they begin, as bits per byte by their bytes: not by the whole text's words.</summary>
    [Theory]
    [InlineData(32, 32)]
    [InlineData(32, 8)]
    [InlineData(2, 2)]
    public void Word_perplexity_counts_the_words_of_the_scored_tokens(int context, int stride)
    {
        var text = ModelFiles.Sample();
        string content = File.ReadAllText(ModelFiles.SampleText);
        int[] textWords = text.Words!, textBytes = text.Bytes!;
        Assert.Equal(System.Text.RegularExpressions.Regex.Split(content.Trim(), @"\s+").Length, textWords.Sum());

        var windows = ModelWindows.Sliding(text.Ids.Length, context, stride);
        long words = 0, bytes = 0;
        for (long r = 0; r < windows.Rows; r++)
        {
            words += textWords[windows.TokenOfRow(r)];
            bytes += textBytes[windows.TokenOfRow(r)];
        }

        var report = CliRunner.Json(Run("bigram.onnx", SampleText(context, stride)));
        double expected = Math.Exp(NllSum(report) / words);
        Assert.Equal(expected, CliRunner.Number(report["word_perplexity"]), 1e-9 * expected);
        Assert.Equal(NllSum(report) / (bytes * Math.Log(2)), CliRunner.Number(report["bits_per_byte"]), 1e-9);
        Assert.True(words < textWords.Sum() || stride < context);

        // The tokenizer counts the words: a total is refused, as --total-bytes is.
        CliRunner.Fails(ExitCode.Usage, ["--total-words applies to --tokens only"], Run("bigram.onnx", [.. SampleText(context, stride), "--total-words", "68"]));
    }

    [Fact]
    public void Whole_text_totals_with_ids_are_refused_where_windows_leave_more_than_the_first_token_unscored()
    {
        string[] ids = ["--tokens", ModelFiles.Path("sample_tokens.npy")];
        foreach (string total in new[] { "--total-bytes", "--total-words" })
        {
            CliRunner.Fails(ExitCode.Usage, [$"{total} counts the whole text", "123 of its tokens go unscored", "--stride below --context", "--text"],
                Run("bigram.onnx", [.. ids, "--context", "2", "--stride", "2", total, "387"]));
            CliRunner.Fails(ExitCode.Usage, ["8 of its tokens go unscored"], Run("bigram.onnx", [.. ids, "--context", "32", "--stride", "32", total, "387"]));
        }

        // Only the first token unscored (a stride below the context, or one window): kept, a bias of one token.
        var strided = CliRunner.Json(Run("bigram.onnx", [.. ids, "--context", "32", "--stride", "8", "--total-bytes", "387", "--total-words", "68"]));
        Assert.Equal(1, (long)strided["unscored"]!);
        Assert.Equal(NllSum(strided) / (387 * Math.Log(2)), CliRunner.Number(strided["bits_per_byte"]), 1e-9);
        var oneWindow = CliRunner.Json(Run("bigram.onnx", [.. ids, "--context", "512", "--stride", "512", "--total-bytes", "387"]));
        Assert.Equal(1, (long)oneWindow["unscored"]!);

        // The shards of such a run give the totals to merge: refused there too, and where the partials count bytes themselves.
        using var dir = new TempDir();
        for (int i = 0; i < 2; i++)
        {
            CliRunner.Json(Run("bigram.onnx", [.. ids, "--context", "32", "--stride", "32", "--shard", $"{i}/2", "--partial-dir", dir.File("ids")]));
            CliRunner.Json(Run("bigram.onnx", [.. SampleText(32, 8), "--shard", $"{i}/2", "--partial-dir", dir.File("text")]));
        }

        CliRunner.Fails(ExitCode.Usage, ["--total-bytes counts the whole text", "8 of its tokens go unscored"], "merge", dir.File("ids"), "--total-bytes", "387");
        CliRunner.Fails(ExitCode.Usage, ["count the bytes of their scored tokens"], "merge", dir.File("text"), "--total-bytes", "387");
        CliRunner.Fails(ExitCode.Usage, ["count the words of their scored tokens"], "merge", dir.File("text"), "--total-words", "68");
        var merged = CliRunner.Json("merge", dir.File("text"));
        var one = CliRunner.Json(Run("bigram.onnx", SampleText(32, 8)));
        Assert.Equal(one["word_perplexity"]!.ToJsonString(), merged["word_perplexity"]!.ToJsonString());
    }

    /// <summary>A context longer than the text sizes the logits by the text (it ran out of one array before: "Actual value was 2400000000").</summary>
    [Fact]
    public void A_context_longer_than_the_text_holds_logits_for_the_text_only()
    {
        string[] ids = ["--tokens", ModelFiles.Path("sample_tokens.npy"), "--stride", "8"];
        var huge = CliRunner.Json(Run("bigram.onnx", [.. ids, "--context", "8000000"]));
        var exact = CliRunner.Json(Run("bigram.onnx", [.. ids, "--context", "245"]));
        Assert.Equal(exact["mean_nll"]!.ToJsonString(), huge["mean_nll"]!.ToJsonString());
        Assert.Equal(1, (int)huge["windows"]!);
    }

    /// <summary>A batch's logits are held in native memory, so only the machine's memory bounds them (one array did, at 2.1e9 values): 4.9 TB is refused before the model runs.</summary>
    [Fact]
    public void A_batch_of_logits_larger_than_memory_is_one_line_before_the_model_runs()
    {
        using var dir = new TempDir();
        NpyFormat.Write<int>(dir.File("ids.npy"), Enumerable.Range(0, 1_000_000).Select(i => i % ModelFiles.Vocab).ToArray(), [1_000_000]);
        CliRunner.Fails(ExitCode.Usage, ["a batch's logits (995905 windows x 4096 tokens x 300 vocabulary = 1223768064000 values, 4895.1 GB) exceed this machine's memory", "smaller batch or context"],
            Run("bigram.onnx", "--tokens", dir.File("ids.npy"), "--context", "4096", "--stride", "1", "--batch", "1000000"));
    }

    [Fact]
    public void Texts_of_fewer_than_two_tokens_are_bad_input_naming_the_file()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("empty.txt"), string.Empty);
        File.WriteAllText(dir.File("one.txt"), "a");
        NpyFormat.Write<int>(dir.File("one.npy"), [5], [1]);
        CliRunner.Fails(ExitCode.BadData, [$"{dir.File("empty.txt")}: has 0 tokens; scoring needs at least 2"], Run("bigram.onnx", "--tokenizer", ModelFiles.VocabJson, "--text", dir.File("empty.txt")));
        CliRunner.Fails(ExitCode.BadData, [$"{dir.File("one.txt")}: has 1 token; scoring needs at least 2"], Run("bigram.onnx", "--tokenizer", ModelFiles.VocabJson, "--text", dir.File("one.txt")));
        CliRunner.Fails(ExitCode.BadData, [$"{dir.File("one.npy")}: has 1 token;"], Run("bigram.onnx", "--tokens", dir.File("one.npy")));
        CliRunner.Fails(ExitCode.BadData, ["has 1 token;"], "compare-models", "--base", ModelFiles.Path("bigram.onnx"), "--test", ModelFiles.Path("window.onnx"), "--tokens", dir.File("one.npy"), "--device", "cpu");

        using var model = OnnxLanguageModel.Open(ModelFiles.Path("bigram.onnx"));
        var e = Assert.Throws<ArgumentException>(() => new ModelRowSource(model, new TokenizedText([5], null, "one", "ids")));
        Assert.StartsWith("one has 1 token; scoring needs at least 2.", e.Message, StringComparison.Ordinal);
    }
}
