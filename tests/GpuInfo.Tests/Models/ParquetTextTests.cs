using System.Text.Json;
using GpuInfo.Cli;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// Parquet texts (Hugging Face datasets' files) as Arrow's Rust writer makes them (make_parquet.mjs): a
/// document per row, read as the .jsonl of the same documents is, under every codec and both data page
/// versions, with dictionaries and without, in a column that may hold nulls and one that may not; and each way such a file can be wrong, one line naming it.
/// </summary>
public sealed class ParquetTextTests
{
    private static string File(string name) => ModelFiles.Path(Path.Combine("parquet", name));

    private static readonly string[] Codecs = ["snappy", "zstd", "gzip", "brotli", "lz4raw", "none"];

    private static string[] Tokenize(params string[] more) => ["tokenize", "--tokenizer", ModelFiles.VocabJson, .. more];

    [Fact]
    public void Every_codec_reads_the_documents_of_the_same_jsonl_exactly()
    {
        var expected = System.IO.File.ReadAllLines(File("docs.jsonl")).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("text").GetString()!).ToArray();
        Assert.Equal(13, expected.Length);
        foreach (string name in Codecs.Select(c => $"docs_{c}.parquet").Append("required_text.parquet"))
        {
            string path = File(name);
            var documents = ModelDocuments.Read([path], "text").ToArray();
            Assert.Equal(expected, documents.Select(d => d.Content));
            Assert.Equal(Enumerable.Range(1, 13).Select(row => $"{path}:{row}"), documents.Select(d => d.Name));
        }

        // Another string column is another set of documents.
        var urls = ModelDocuments.Read([File("docs_zstd.parquet")], "url").Select(d => d.Content).ToArray();
        Assert.Equal(Enumerable.Range(0, 13).Select(i => $"https://example.org/{i}"), urls);
    }

    [Fact]
    public void A_parquet_corpus_tokenizes_and_scores_as_its_jsonl()
    {
        var jsonl = CliRunner.Json(Tokenize("--text", File("docs.jsonl"), "--json"));
        var parquet = CliRunner.Json(Tokenize("--text", File("docs_snappy.parquet"), "--text", File("docs_zstd.parquet"), "--json"));
        Assert.Equal(2 * (long)jsonl["tokens"]!, (long)parquet["tokens"]!);
        Assert.Equal(26, (int)parquet["documents"]!);
        foreach (string field in new[] { "first_ids" })
        {
            Assert.Equal(jsonl[field]!.ToJsonString(), parquet[field]!.ToJsonString());
        }

        string[] run = ["perplexity", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--protocol", "rolling", "--prefix-token", "0", "--context", "16", "--device", "cpu", "--json"];
        var fromJsonl = CliRunner.Json([.. run, "--text", File("docs.jsonl")]);
        var fromParquet = CliRunner.Json([.. run, "--text", File("docs_brotli.parquet"), "--text-field", "text"]);
        foreach (string field in new[] { "tokens", "documents", "mean_nll", "bits_per_byte", "word_perplexity" })
        {
            Assert.Equal(fromJsonl[field]!.ToJsonString(), fromParquet[field]!.ToJsonString());
        }
    }

    [Fact]
    public void Inspect_lists_rows_row_groups_and_the_columns_text_field_reads()
    {
        var files = CliRunner.Json("inspect", File("docs_snappy.parquet"), File("required_text.parquet"), "--json")["files"]!.AsArray();
        var docs = files[0]!.AsObject();
        Assert.Equal("parquet", docs["format"]!.GetValue<string>());
        Assert.Equal(13, (long)docs["rows"]!);
        Assert.Equal(4, (int)docs["row_groups"]!);
        Assert.Equal("make_parquet.mjs (parquet-wasm 0.8.0)", docs["created_by"]!.GetValue<string>());
        var columns = docs["columns"]!.AsArray().Select(c => c!.AsObject()).ToArray();
        Assert.Equal(["id", "text", "url", "meta"], columns.Select(c => c["name"]!.GetValue<string>()));
        Assert.Equal(["int32", "string", "string", "struct"], columns.Select(c => c["type"]!.GetValue<string>()));
        Assert.Equal([false, true, true, false], columns.Select(c => c["text"]!.GetValue<bool>()));
        var required = files[1]!["columns"]!.AsArray().Single()!.AsObject();
        Assert.False(required["nullable"]!.GetValue<bool>());
        Assert.True(required["text"]!.GetValue<bool>());
        Assert.Equal("int64", CliRunner.Json("inspect", File("int_text.parquet"), "--json")["files"]![0]!["columns"]![1]!["type"]!.GetValue<string>());
        Assert.Contains("--text-field", CliRunner.Run("inspect", File("docs_snappy.parquet")).Stdout, StringComparison.Ordinal);

        using var dir = new TempDir();
        System.IO.File.WriteAllText(dir.File("text.parquet"), "plain text\n");
        CliRunner.Fails(ExitCode.BadData, [$"{dir.File("text.parquet")}: is not a Parquet file"], "inspect", dir.File("text.parquet"));
    }

    [Fact]
    public void Reading_reports_the_bytes_of_the_file_a_row_group_at_a_time()
    {
        var reported = new List<long>();
        string path = File("docs_snappy.parquet");
        Assert.Equal(13, ModelDocuments.Read([path], "text", new Reports(reported)).Count());
        Assert.Equal(4, reported.Count); // row groups of 4, 4, 4 and 1 rows
        Assert.True(reported.Zip(reported.Skip(1)).All(p => p.First < p.Second), "the bytes read go forward");
        Assert.Equal(new FileInfo(path).Length, reported[^1]);
    }

    private sealed class Reports(List<long> values) : IProgress<long>
    {
        public void Report(long value) => values.Add(value);
    }

    [Fact]
    public void Wrong_parquet_files_are_one_line_naming_the_file_and_what_is_wrong()
    {
        using var dir = new TempDir();
        CliRunner.Fails(ExitCode.BadData, [$"{File("null_text.parquet")}: row 6: \"text\" is null"], Tokenize("--text", File("null_text.parquet")));
        CliRunner.Fails(ExitCode.BadData, [$"{File("bad_utf8.parquet")}: row 2: \"text\" is not UTF-8 text"], Tokenize("--text", File("bad_utf8.parquet")));
        CliRunner.Fails(ExitCode.BadData, ["column \"text\" holds int64, not strings (its string columns: \"url\")"], Tokenize("--text", File("int_text.parquet")));
        CliRunner.Fails(ExitCode.BadData, ["column \"text\" holds bytes without a string annotation"], Tokenize("--text", File("binary_text.parquet")));
        CliRunner.Fails(ExitCode.BadData, [$"{File("empty.parquet")}: holds no documents"], Tokenize("--text", File("empty.parquet")));
        CliRunner.Fails(ExitCode.BadData, ["has no column \"body\" (its string columns: \"text\", \"url\"; --text-field names the document's)"], Tokenize("--text", File("docs_gzip.parquet"), "--text-field", "body"));
        CliRunner.Fails(ExitCode.BadData, ["column \"meta\" is a struct of values, not one string per row"], Tokenize("--text", File("docs_gzip.parquet"), "--text-field", "meta"));

        System.IO.File.WriteAllText(dir.File("text.parquet"), "plain text, not Parquet\n");
        CliRunner.Fails(ExitCode.BadData, [$"{dir.File("text.parquet")}: is not a Parquet file, or is damaged or cut short"], Tokenize("--text", dir.File("text.parquet")));
        byte[] bytes = System.IO.File.ReadAllBytes(File("docs_snappy.parquet"));
        System.IO.File.WriteAllBytes(dir.File("cut.parquet"), bytes[..(bytes.Length / 2)]);
        CliRunner.Fails(ExitCode.BadData, [$"{dir.File("cut.parquet")}: is not a Parquet file, or is damaged or cut short"], Tokenize("--text", dir.File("cut.parquet")));
        System.IO.File.WriteAllBytes(dir.File("docs.parquet.gz"), bytes);
        CliRunner.Fails(ExitCode.BadData, ["is a compressed Parquet file"], Tokenize("--text", dir.File("docs.parquet.gz")));
        Directory.CreateDirectory(dir.File("folder.parquet"));
        CliRunner.Fails(ExitCode.BadData, ["is a folder, not a Parquet file"], Tokenize("--text", dir.File("folder.parquet")));
        CliRunner.Fails(ExitCode.BadData, ["no such text file"], Tokenize("--text", dir.File("missing.parquet")));
    }

    /// <summary>Damaged Parquet files: read whole or refused as bad data, one line, never an internal error (a length in a damaged header must not become an allocation that brings the run down).</summary>
    [Theory]
    [InlineData("snappy", 11000)]
    [InlineData("zstd", 12000)]
    public void Mutated_parquet_files_are_read_or_fail_as_bad_data(string codec, int seedBase)
    {
        using var dir = new TempDir();
        byte[] bytes = System.IO.File.ReadAllBytes(File($"docs_{codec}.parquet"));
        string mutant = dir.File("mutant.parquet");
        int read = 0, refused = 0;
        for (int m = 0; m < 150; m++)
        {
            var rng = new Random(seedBase + m);
            System.IO.File.WriteAllBytes(mutant, Fuzz.Mutate(bytes, rng));
            var run = CliRunner.Run(Tokenize("--text", mutant, "--json"));
            Fuzz.ReportedOrFailedCleanly(run, $"mutation {m} (seed {seedBase + m}) of docs_{codec}.parquet", [ExitCode.BadData]);
            (run.Code == 0 ? ref read : ref refused)++;
        }

        Assert.True(refused > 0, $"the fuzzer should produce broken files ({read} read, {refused} refused)");
    }
}
