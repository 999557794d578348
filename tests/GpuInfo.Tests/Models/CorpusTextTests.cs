using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;
using GpuInfo.Cli;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// Large corpora as text: .jsonl files read a line at a time, gzip and Zstandard files read through
/// their decompressors, and line ends as JSON Lines defines them.
/// </summary>
public sealed class CorpusTextTests
{
    private static JsonObject Tokenize(params string[] texts) =>
        CliRunner.Json(["tokenize", "--tokenizer", ModelFiles.VocabJson, .. texts.SelectMany(t => new[] { "--text", t }), "--json"]);

    private static string Lines(int documents, int seed)
    {
        var random = new Random(seed);
        string sample = File.ReadAllText(ModelFiles.SampleText);
        var text = new StringBuilder();
        for (int d = 0; d < documents; d++)
        {
            int start = random.Next(sample.Length - 200), length = random.Next(1, 200);
            text.Append(new JsonObject { ["id"] = d, ["text"] = sample.Substring(start, length) + (d % 7 == 0 ? " ½ naïve 🙂" : "") }.ToJsonString()).Append('\n');
        }

        return text.ToString();
    }

    private static void Gzip(string from, string to)
    {
        using var input = File.OpenRead(from);
        using var output = new GZipStream(File.Create(to), CompressionLevel.Fastest);
        input.CopyTo(output);
    }

    private static void Zstd(string from, string to)
    {
        using var input = File.OpenRead(from);
        using var file = File.Create(to);
        using var output = new ZstdSharp.CompressionStream(file, 3);
        input.CopyTo(output);
    }

    [Fact]
    public void Gzip_and_zstandard_files_read_as_the_files_they_hold()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("docs.jsonl"), Lines(300, Random.Shared.Next()));
        File.Copy(ModelFiles.SampleText, dir.File("sample.txt"));
        foreach (string name in new[] { "docs.jsonl", "sample.txt" })
        {
            Gzip(dir.File(name), dir.File(name + ".gz"));
            Zstd(dir.File(name), dir.File(name + ".zst"));
        }

        var plain = Tokenize(dir.File("docs.jsonl"), dir.File("sample.txt"));
        Assert.Equal(301, (int)plain["documents"]!);
        foreach (string suffix in new[] { ".gz", ".zst" })
        {
            var compressed = Tokenize(dir.File("docs.jsonl" + suffix), dir.File("sample.txt" + suffix));
            foreach (string field in new[] { "documents", "tokens", "chars", "bytes", "bytes_counted", "words_counted", "first_ids" })
            {
                Assert.Equal(plain[field]!.ToJsonString(), compressed[field]!.ToJsonString());
            }
        }

        // Scored, a compressed corpus is the same corpus.
        string[] run = ["perplexity", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--protocol", "rolling", "--prefix-token", "0", "--context", "16", "--device", "cpu", "--json"];
        var scored = CliRunner.Json([.. run, "--text", dir.File("docs.jsonl")]);
        var scoredZst = CliRunner.Json([.. run, "--text", dir.File("docs.jsonl.zst")]);
        Assert.Equal(scored["mean_nll"]!.ToJsonString(), scoredZst["mean_nll"]!.ToJsonString());
        Assert.Equal(scored["bits_per_byte"]!.ToJsonString(), scoredZst["bits_per_byte"]!.ToJsonString());
    }

    [Fact]
    public void A_damaged_compressed_file_is_one_line_naming_it()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("docs.jsonl"), Lines(2000, 5));
        Gzip(dir.File("docs.jsonl"), dir.File("docs.jsonl.gz"));
        Zstd(dir.File("docs.jsonl"), dir.File("docs.jsonl.zst"));
        foreach (string name in new[] { "docs.jsonl.gz", "docs.jsonl.zst" })
        {
            byte[] bytes = File.ReadAllBytes(dir.File(name));
            File.WriteAllBytes(dir.File("cut-" + name), bytes[..(bytes.Length / 2)]);
        }

        File.WriteAllText(dir.File("plain.jsonl.gz"), "{\"text\": \"not compressed\"}\n");
        File.WriteAllText(dir.File("plain.txt.zst"), "not compressed");
        CliRunner.Fails(ExitCode.BadData, [$"{dir.File("cut-docs.jsonl.gz")}: ", "is cut short"], "tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", dir.File("cut-docs.jsonl.gz"));
        CliRunner.Fails(ExitCode.BadData, [$"{dir.File("cut-docs.jsonl.zst")}: ", "is cut short"], "tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", dir.File("cut-docs.jsonl.zst"));
        CliRunner.Fails(ExitCode.BadData, [$"{dir.File("plain.jsonl.gz")}: is not gzip data"], "tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", dir.File("plain.jsonl.gz"));
        CliRunner.Fails(ExitCode.BadData, [$"{dir.File("plain.txt.zst")}: is not Zstandard data"], "tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", dir.File("plain.txt.zst"));
    }

    /// <summary>Damaged compressed texts: every run reads them whole or fails as bad data, one line, never an internal error.</summary>
    [Theory]
    [InlineData(".gz", 7000)]
    [InlineData(".zst", 8000)]
    [InlineData("", 9000)]
    public void Mutated_texts_are_read_or_fail_as_bad_data(string suffix, int seedBase)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("docs.jsonl"), Lines(40, seedBase));
        string valid = dir.File("docs.jsonl" + suffix);
        if (suffix == ".gz")
        {
            Gzip(dir.File("docs.jsonl"), valid);
        }
        else if (suffix == ".zst")
        {
            Zstd(dir.File("docs.jsonl"), valid);
        }

        byte[] bytes = File.ReadAllBytes(valid);
        string mutant = dir.File("mutant.jsonl" + suffix);
        int read = 0, refused = 0;
        for (int m = 0; m < 150; m++)
        {
            var rng = new Random(seedBase + m);
            File.WriteAllBytes(mutant, Fuzz.Mutate(bytes, rng));
            var run = CliRunner.Run("tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", mutant, "--json");
            Fuzz.ReportedOrFailedCleanly(run, $"mutation {m} (seed {seedBase + m}) of docs.jsonl{suffix}", [ExitCode.BadData]);
            (run.Code == 0 ? ref read : ref refused)++;
        }

        Assert.True(refused > 0, $"the fuzzer should produce broken files ({read} read, {refused} refused)");
    }

    [Fact]
    public void Lines_end_at_newlines_alone_as_json_lines_defines_them()
    {
        using var dir = new TempDir();
        string[] documents = ["first one", "second, with \\r inside: a\\rb", "third"];
        var lines = documents.Select(d => $"{{\"text\": \"{d}\"}}").ToArray();
        File.WriteAllText(dir.File("lf.jsonl"), string.Join("\n", lines) + "\n");
        File.WriteAllText(dir.File("crlf.jsonl"), string.Join("\r\n", lines) + "\r\n");
        File.WriteAllText(dir.File("unended.jsonl"), string.Join("\n", lines));
        File.WriteAllText(dir.File("blanks.jsonl"), "\n\n" + string.Join("\n\n", lines) + "\n\n");
        var expected = Tokenize(dir.File("lf.jsonl"));
        Assert.Equal(3, (int)expected["documents"]!);
        foreach (string name in new[] { "crlf.jsonl", "unended.jsonl", "blanks.jsonl" })
        {
            var report = Tokenize(dir.File(name));
            Assert.Equal(expected["documents"]!.ToJsonString(), report["documents"]!.ToJsonString());
            Assert.Equal(expected["tokens"]!.ToJsonString(), report["tokens"]!.ToJsonString());
        }

        // A raw carriage return between two objects does not end a line: that line is not JSON.
        File.WriteAllText(dir.File("cr.jsonl"), lines[0] + "\r" + lines[2] + "\n");
        CliRunner.Fails(ExitCode.BadData, [$"{dir.File("cr.jsonl")}: line 1 is not JSON"], "tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", dir.File("cr.jsonl"));

        // Errors name the line they are on, counting blank lines.
        File.WriteAllText(dir.File("third.jsonl"), lines[0] + "\n\n[1]\n");
        CliRunner.Fails(ExitCode.BadData, [$"{dir.File("third.jsonl")}: line 3 is a JSON array"], "tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", dir.File("third.jsonl"));
    }

    /// <summary>C4's and Dolma's files are JSON Lines named .json.gz.</summary>
    [Fact]
    public void A_json_file_is_read_as_json_lines_and_a_json_document_is_refused_saying_so()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("docs.jsonl"), Lines(50, 9));
        File.Copy(dir.File("docs.jsonl"), dir.File("c4-validation.json"));
        Gzip(dir.File("docs.jsonl"), dir.File("c4-validation.json.gz"));
        var expected = Tokenize(dir.File("docs.jsonl"));
        foreach (string name in new[] { "c4-validation.json", "c4-validation.json.gz" })
        {
            var report = Tokenize(dir.File(name));
            Assert.Equal(expected["documents"]!.ToJsonString(), report["documents"]!.ToJsonString());
            Assert.Equal(expected["tokens"]!.ToJsonString(), report["tokens"]!.ToJsonString());
        }

        File.WriteAllText(dir.File("pretty.json"), "{\n  \"text\": \"a b\"\n}\n");
        File.WriteAllText(dir.File("array.json"), "[{\"text\": \"a b\"}]\n");
        CliRunner.Fails(ExitCode.BadData, [$"{dir.File("pretty.json")}: line 1 is not JSON (a .json --text is read as JSON Lines, one object per line"], "tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", dir.File("pretty.json"));
        CliRunner.Fails(ExitCode.BadData, [$"{dir.File("array.json")}: line 1 is a JSON array, not an object holding a document in \"text\" (a .json --text is read as JSON Lines"], "tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", dir.File("array.json"));
    }

    /// <summary>What the progress shown while a corpus is tokenized reads: bytes of the files as stored, rising to their sizes.</summary>
    [Fact]
    public void Reading_reports_the_bytes_of_the_files_read()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("docs.jsonl"), Lines(3000, 4));
        Zstd(dir.File("docs.jsonl"), dir.File("docs.jsonl.zst"));
        File.Copy(ModelFiles.SampleText, dir.File("sample.txt"));
        string[] files = [dir.File("docs.jsonl"), dir.File("sample.txt"), dir.File("docs.jsonl.zst")];
        var reported = new List<long>();
        int documents = ModelDocuments.Read(files, "text", new Reports(reported)).Count();
        Assert.Equal(6001, documents);
        Assert.Equal(documents, reported.Count);
        Assert.True(reported.Zip(reported.Skip(1)).All(p => p.First <= p.Second), "the bytes read never go back");
        long plain = new FileInfo(files[0]).Length, sample = new FileInfo(files[1]).Length;
        Assert.Equal(plain + sample, reported[3000]);
        Assert.InRange(reported[^1], plain + sample + 1, plain + sample + new FileInfo(files[2]).Length);
        Assert.Equal(files.Sum(ModelDocuments.Size), plain + sample + new FileInfo(files[2]).Length);
    }

    private sealed class Reports(List<long> values) : IProgress<long>
    {
        public void Report(long value) => values.Add(value);
    }

    [Fact]
    public void Tokenize_out_refuses_a_second_document_naming_it()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("two.jsonl"), "{\"text\": \"a\"}\n{\"text\": \"b\"}\n");
        CliRunner.Fails(ExitCode.Usage, [$"--out writes one document's ids; {dir.File("two.jsonl")}:2 is a second document"],
            "tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", dir.File("two.jsonl"), "--out", dir.File("ids.npy"));
        Assert.False(File.Exists(dir.File("ids.npy")));
    }
}
