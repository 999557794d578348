using System.Text.Json;
using GpuInfo.Cli;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// --text-join: the documents of --text joined into one text, as the Hugging Face perplexity guide joins
/// WikiText's rows ("\n\n".join(test["text"])), read and scored as the text file of that join is.
/// </summary>
public sealed class TextJoinTests
{
    private static string Parquet(string name) => ModelFiles.Path(Path.Combine("parquet", name));

    private static string[] Documents() =>
        File.ReadAllLines(Parquet("docs.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!).ToArray();

    [Fact]
    public void Joined_documents_tokenize_and_score_as_the_text_of_their_join()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("joined.txt"), string.Join("\n\n", Documents()));
        string[] tokenize = ["tokenize", "--tokenizer", ModelFiles.VocabJson, "--json"];
        var text = CliRunner.Json([.. tokenize, "--text", dir.File("joined.txt")]);
        foreach (string input in new[] { Parquet("docs.jsonl"), Parquet("docs_zstd.parquet") })
        {
            var joined = CliRunner.Json([.. tokenize, "--text", input, "--text-join", "\\n\\n"]);
            Assert.Equal(1, (int)joined["documents"]!);
            foreach (string field in new[] { "tokens", "chars", "bytes", "bytes_counted", "words_counted", "first_ids" })
            {
                Assert.Equal(text[field]!.ToJsonString(), joined[field]!.ToJsonString());
            }
        }

        // Apart, the same documents are 13 texts and other tokens (no "\n\n" between them).
        Assert.Equal(13, (int)CliRunner.Json([.. tokenize, "--text", Parquet("docs.jsonl")])["documents"]!);

        string[] run = ["perplexity", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--context", "16", "--device", "cpu", "--json"];
        var scoredText = CliRunner.Json([.. run, "--text", dir.File("joined.txt")]);
        var scoredJoin = CliRunner.Json([.. run, "--text", Parquet("docs_snappy.parquet"), "--text-join", "\\n\\n"]);
        foreach (string field in new[] { "tokens", "documents", "mean_nll", "bits_per_byte", "windows" })
        {
            Assert.Equal(scoredText[field]!.ToJsonString(), scoredJoin[field]!.ToJsonString());
        }
    }

    [Theory]
    [InlineData("\\n\\n", "\n\n")]
    [InlineData(" ", " ")]
    [InlineData("a\\tb\\r\\n", "a\tb\r\n")]
    [InlineData("\\\\n", "\\n")]
    [InlineData("", "")]
    public void Separators_read_their_escapes(string given, string separator) => Assert.Equal(separator, TextDocumentOptions.Separator(given));

    [Fact]
    public void A_join_that_is_not_a_separator_or_has_no_text_is_a_usage_error()
    {
        string[] tokenize = ["tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", Parquet("docs.jsonl")];
        CliRunner.Fails(ExitCode.Usage, ["--text-join '\\x': a backslash is read with the character after it"], [.. tokenize, "--text-join", "\\x"]);
        CliRunner.Fails(ExitCode.Usage, ["--text-join 'a\\': a backslash"], [.. tokenize, "--text-join", "a\\"]);
        using var dir = new TempDir();
        string ids = dir.File("ids.npy");
        CliRunner.Run([.. tokenize, "--out", ids, "--text-join", "\\n"]);
        CliRunner.Fails(ExitCode.Usage, ["--text-join applies to --text files"], "perplexity", "--model", ModelFiles.Path("window.onnx"), "--tokens", ids, "--text-join", "\\n", "--device", "cpu");
    }
}
