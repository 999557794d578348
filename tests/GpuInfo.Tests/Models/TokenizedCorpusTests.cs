using System.Text;
using GpuInfo.Cli;
using GpuInfo.Formats;
using GpuInfo.Models;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// A corpus tokenized once (<c>tokenize --out F.safetensors</c>, <see cref="TokenizedCorpusWriter"/>) and
/// scored from its ids (<c>--tokens F.safetensors</c>, <see cref="TokenizedCorpusFile"/>): the same figures,
/// document for document, as its text; its shards merge with the text's; a damaged file is an error.
/// </summary>
public sealed class TokenizedCorpusTests(ITestOutputHelper output)
{
    private static string Documents => ModelFiles.Path("documents.jsonl");

    private static readonly string[] Figures = ["tokens", "mean_nll", "perplexity", "bits_per_byte", "byte_perplexity", "word_perplexity", "unscored", "documents", "prefix_token", "windows", "top1_accuracy"];

    private static string[] Perplexity(params string[] more) =>
        ["perplexity", "--model", ModelFiles.Path("window.onnx"), .. more.Contains("--context") ? [] : new[] { "--context", "16" }, "--device", "cpu", "--json", .. more];

    [Theory]
    [InlineData("vocab.json")]
    [InlineData("sp_bpe.model")] // begins each text with its BOS: the default prefix token with sliding windows and chunks
    public void Each_protocol_scores_the_corpus_as_its_text_document_by_document(string tokenizer)
    {
        using var dir = new TempDir();
        string path = ModelFiles.Path(tokenizer), corpus = dir.File("docs.safetensors");
        var tokenized = CliRunner.Json("tokenize", "--tokenizer", path, "--text", Documents, "--out", corpus, "--json");
        Assert.Equal(3, (int)tokenized["documents"]!);
        string[][] protocols =
        [
            ["--protocol", "sliding", "--stride", "8"],
            ["--protocol", "sliding", "--stride", "16"],
            ["--protocol", "sliding", "--stride", "8", "--prefix-token", "0"],
            ["--protocol", "rolling"], // --prefix-token auto: from the file's account of its tokenizer
            ["--protocol", "rolling", "--prefix-token", "2", "--context", "40"],
            ["--protocol", "chunks"],
            ["--protocol", "chunks", "--prefix-token", "none", "--context", "8"],
        ];
        if (tokenizer == "vocab.json")
        {
            protocols = [.. protocols.Where(p => !p.SequenceEqual(["--protocol", "rolling"]))]; // a vocab.json names no prefix token
        }

        foreach (var protocol in protocols)
        {
            string what = $"{tokenizer} {string.Join(' ', protocol)}";
            var byText = CliRunner.Json(Perplexity([.. protocol, "--text", Documents, "--tokenizer", path, "--per-document", dir.File("text.jsonl")]));
            var byIds = CliRunner.Json(Perplexity([.. protocol, "--tokens", corpus, "--per-document", dir.File("ids.jsonl")]));
            foreach (string key in Figures)
            {
                Assert.True(byText[key]?.ToJsonString() == byIds[key]?.ToJsonString(), $"{what}: {key} {byText[key]?.ToJsonString()} from the text, {byIds[key]?.ToJsonString()} from its ids");
            }

            Assert.NotNull(byIds["bits_per_byte"]);
            Assert.NotNull(byIds["word_perplexity"]);
            Assert.Equal(File.ReadAllLines(dir.File("text.jsonl")), File.ReadAllLines(dir.File("ids.jsonl")));
        }
    }

    /// <summary>Shards read from the tokenized corpus and shards tokenized from the text are one source: they merge into the whole run.</summary>
    [Fact]
    public void Its_shards_merge_with_the_texts()
    {
        using var dir = new TempDir();
        string corpus = dir.File("docs.safetensors");
        CliRunner.Json("tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", Documents, "--out", corpus, "--json");
        string[] text = ["--text", Documents, "--tokenizer", ModelFiles.VocabJson, "--protocol", "rolling", "--prefix-token", "0"];
        var whole = CliRunner.Json(Perplexity(text));
        // A shard given the text tokenizes all of it, and says how not to.
        var (code, _, stderr) = CliRunner.Run(Perplexity([.. text, "--shard", "0/3", "--partial", dir.File("0.json")]));
        Assert.Equal(ExitCode.Ok, code);
        Assert.Contains("as each of the 3 does; tokenize it once (gpuinfo tokenize --tokenizer", stderr, StringComparison.Ordinal);
        Assert.Contains("--out F.safetensors) and give each shard --tokens F.safetensors", stderr, StringComparison.Ordinal);
        (code, _, stderr) = CliRunner.Run(Perplexity(["--tokens", corpus, "--protocol", "rolling", "--prefix-token", "0", "--shard", "1/3", "--partial", dir.File("1.json")]));
        Assert.Equal(ExitCode.Ok, code);
        Assert.DoesNotContain("tokenize it once", stderr, StringComparison.Ordinal);
        CliRunner.Json(Perplexity([.. text, "--shard", "2/3", "--partial", dir.File("2.json")]));
        var merged = CliRunner.Json("merge", dir.File("0.json"), dir.File("1.json"), dir.File("2.json"));
        foreach (string key in new[] { "tokens", "mean_nll", "perplexity", "bits_per_byte", "word_perplexity" })
        {
            Assert.Equal(whole[key]!.ToJsonString(), merged[key]!.ToJsonString());
        }
    }

    /// <summary>Random documents written one at a time read back as <see cref="TokenizedText.Join"/> gives them, with each prefix token and lm-evaluation-harness's word edges.</summary>
    [Fact]
    public void Written_documents_read_back_as_join_gives_them()
    {
        int seed = Random.Shared.Next();
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        using var dir = new TempDir();
        for (int trial = 0; trial < 12; trial++)
        {
            // Every third trial a few long documents: each one's first id then read on its own, not in a pass over the ids.
            bool few = trial % 3 == 2;
            int count = few ? random.Next(1, 4) : random.Next(1, 40), before = random.Next(0, 3), after = random.Next(0, 2);
            bool counted = trial % 4 != 3;
            var documents = new List<TokenizedText>();
            var names = new List<string>();
            var edges = new List<byte>();
            for (int d = 0; d < count; d++)
            {
                int length = few ? random.Next(1100, 3000) : random.Next(1, 60);
                int[] ids = [.. Enumerable.Range(0, length).Select(_ => random.Next(0, 7))]; // small ids: some documents begin with the prefix token
                int[]? bytes = counted ? [.. ids.Select(_ => random.Next(0, 5))] : null;
                int[]? words = counted ? [.. ids.Select(_ => random.Next(0, 3))] : null;
                names.Add(random.Next(3) == 0 ? "" : $"corpus é {trial}.jsonl:{d + 1}");
                edges.Add((byte)random.Next(0, 4));
                documents.Add(new TokenizedText(ids, bytes, words, names[d], "random") { WordEdges = edges[d] });
            }

            string path = dir.File($"c{trial}.safetensors");
            var info = new TokenizedCorpusInfo { Tokenizer = "random", Vocabulary = 7, DocumentPrefix = 3, DocumentPrefixSource = "made up", AddedBefore = before, AddedAfter = after };
            using (var writer = new TokenizedCorpusWriter(path, info))
            {
                for (int d = 0; d < count; d++)
                {
                    writer.Add(documents[d]);
                }

                writer.Commit();
            }

            Assert.Equal(info, TokenizedCorpusFile.TryReadInfo(path));
            Assert.Single(Directory.GetFiles(dir.Path, $"*c{trial}*")); // the hidden counts and names are gone
            Assert.Equal(counted ? 6 : 4, SafetensorsFormat.ReadAll(path).Count); // a whole safetensors file, every range checked
            foreach (int? prefix in new int?[] { null, 3, 5 })
            {
                foreach (bool lmEval in new[] { false, true })
                {
                    // Blocks of 7 to 64 values, so that documents cross from one block into the next, as in a corpus of millions of tokens.
                    var read = TokenizedCorpusFile.Read([path], prefix, lmEval, random.Next(7, 65));
                    var expected = TokenizedText.Join(documents, prefix, path);
                    string what = $"trial {trial}, prefix {prefix}, lm-eval words {lmEval}";
                    Assert.True(expected.Ids.SequenceEqual(read.Text.Ids), what);
                    Assert.Equal(expected.DocumentStarts, read.Text.DocumentStarts);
                    Assert.Equal(prefix, read.Text.PrefixToken);
                    Assert.Equal(names, read.DocumentNames);
                    Assert.Equal("random", read.Text.Tokenizer);
                    Assert.Equal(expected.Bytes, read.Text.Bytes);
                    if (!counted)
                    {
                        Assert.Null(read.Text.Words);
                        continue;
                    }

                    // lm-evaluation-harness's edges go to the first and last of each document's own tokens, past the prefix and the tokens the tokenizer added.
                    var words = (int[])expected.Words!.Clone();
                    for (int d = 0; lmEval && d < count; d++)
                    {
                        int start = (int)expected.DocumentStarts[d] + (expected.Ids[(int)expected.DocumentStarts[d]] == prefix && documents[d].Ids[0] != prefix ? 1 : 0);
                        int first = start + before, last = start + documents[d].Ids.Length - after - 1;
                        if (last >= first)
                        {
                            words[first] += edges[d] & 1;
                            words[last] += edges[d] >> 1;
                        }
                    }

                    Assert.True(words.SequenceEqual(read.Text.Words!), what);
                }
            }

            // ReadIds reads it too, as it holds them.
            Assert.Equal(TokenizedText.Join(documents, null, path).Ids, TokenizedText.ReadIds(path).Ids);
        }
    }

    /// <summary>A corpus tokenized a file at a time reads as one text, in the memory of the text once: the documents of every file, in order.</summary>
    [Fact]
    public void Several_corpus_files_read_as_one_text()
    {
        int seed = Random.Shared.Next();
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        using var dir = new TempDir();
        var info = new TokenizedCorpusInfo { Tokenizer = "random", Vocabulary = 9, AddedBefore = 1 };
        var documents = new List<TokenizedText>();
        var paths = new List<string>();
        for (int file = 0; file < 4; file++)
        {
            string path = dir.File($"part{file}.safetensors");
            paths.Add(path);
            using var writer = new TokenizedCorpusWriter(path, info);
            for (int d = random.Next(1, 6); d > 0; d--)
            {
                int[] ids = [.. Enumerable.Range(0, random.Next(1, 30)).Select(_ => random.Next(0, 9))];
                var document = new TokenizedText(ids, [.. ids.Select(_ => random.Next(0, 4))], [.. ids.Select(_ => random.Next(0, 2))], $"part{file}:{d}", "random") { WordEdges = (byte)random.Next(0, 4) };
                documents.Add(document);
                writer.Add(document);
            }

            writer.Commit();
        }

        foreach (int? prefix in new int?[] { null, 2 })
        {
            var all = TokenizedCorpusFile.Read(paths, prefix, lmEvalWords: true);
            var one = paths.Select(p => TokenizedCorpusFile.Read(p, prefix, lmEvalWords: true).Text).ToList();
            var expected = TokenizedText.Join(one, prefix, "joined");
            Assert.Equal(expected.Ids, all.Text.Ids);
            Assert.Equal(expected.Bytes, all.Text.Bytes);
            Assert.Equal(expected.Words, all.Text.Words);
            Assert.Equal(expected.DocumentStarts, all.Text.DocumentStarts);
            Assert.Equal(documents.Select(d => d.Name), all.DocumentNames);
            Assert.Equal($"{paths[0]} (+3 more)", all.Text.Name);
        }

        // One tokenizer's ids make one text.
        string other = dir.File("other.safetensors");
        using (var writer = new TokenizedCorpusWriter(other, info with { Tokenizer = "another" }))
        {
            writer.Add(new TokenizedText([1, 2], null, "x", "another"));
            writer.Commit();
        }

        var e = Assert.Throws<ArgumentException>(() => TokenizedCorpusFile.Read([paths[0], other]));
        Assert.Contains("was tokenized by random", e.Message, StringComparison.Ordinal);
        Assert.Null(TokenizedCorpusFile.Read([other], null).Text.Bytes);
    }

    /// <summary>Text files tokenized one by one score, given as --tokens together, as the text files given together.</summary>
    [Fact]
    public void Corpus_files_given_together_score_as_their_texts_together()
    {
        using var dir = new TempDir();
        var lines = File.ReadAllLines(Documents);
        File.WriteAllLines(dir.File("a.jsonl"), lines[..2]);
        File.WriteAllLines(dir.File("b.jsonl"), lines[2..]);
        foreach (string part in new[] { "a", "b" })
        {
            CliRunner.Json("tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", dir.File($"{part}.jsonl"), "--out", dir.File($"{part}.safetensors"), "--json");
        }

        string[] rolling = ["--protocol", "rolling", "--prefix-token", "0"];
        var byText = CliRunner.Json(Perplexity([.. rolling, "--text", dir.File("a.jsonl"), dir.File("b.jsonl"), "--tokenizer", ModelFiles.VocabJson, "--per-document", dir.File("text.jsonl")]));
        var byIds = CliRunner.Json(Perplexity([.. rolling, "--tokens", dir.File("a.safetensors"), dir.File("b.safetensors"), "--per-document", dir.File("ids.jsonl")]));
        foreach (string key in Figures)
        {
            Assert.Equal(byText[key]?.ToJsonString(), byIds[key]?.ToJsonString());
        }

        Assert.Equal(3, (int)byIds["documents"]!);
        Assert.Equal(File.ReadAllLines(dir.File("text.jsonl")), File.ReadAllLines(dir.File("ids.jsonl")));
    }

    /// <summary>Documents joined where one has byte and word counts and another has none: the text keeps none (it threw ArgumentNullException before).</summary>
    [Fact]
    public void Join_keeps_counts_only_where_every_document_has_them()
    {
        var counted = new TokenizedText([1, 2], [1, 1], [1, 0], "a", "t");
        var bare = new TokenizedText([3], null, "b", "t");
        var joined = TokenizedText.Join([counted, bare], 0, "ab");
        Assert.Equal([0, 1, 2, 0, 3], joined.Ids);
        Assert.Null(joined.Bytes);
        Assert.Null(joined.Words);
        Assert.Equal([0L, 3], joined.DocumentStarts);
        Assert.Equal([0, 1, 1, 0, 1, 1], TokenizedText.Join([counted, counted], 0, "aa").Bytes!);
    }

    /// <summary>Words counted as lm-evaluation-harness counts them from a text are the file's words with its edges: the writer's edges are the encoder's.</summary>
    [Fact]
    public void Its_word_edges_are_lm_evaluation_harness_counts()
    {
        var tokenizer = TokenizerCatalog.Load(ModelFiles.VocabJson);
        foreach (string text in new[] { " lead", "trail\n", "\tboth ", "none", "x", " ", "a\u001fb\u001f" })
        {
            var plain = tokenizer.Encode(text, "t");
            var lmEval = tokenizer.Encode(text, "t", lmEvalWords: true);
            var words = (int[])plain.Words!.Clone();
            Assert.Equal(plain.WordEdges, lmEval.WordEdges);
            TokenBytes.AddWordEdges(words, plain.WordEdges);
            Assert.Equal(lmEval.Words, words);
            Assert.Equal(System.Text.RegularExpressions.Regex.Split(text, @"[\s\u001c-\u001f]+").Length, words.Sum());
        }

        // A document encoded with lm-evaluation-harness's words is kept with its own words, the edges added back as it is read.
        using var dir = new TempDir();
        var sp = TokenizerCatalog.Load(ModelFiles.Path("sp_bpe.model")); // adds a BOS before each text: the edges go past it
        string[] texts = [" lead and trail\n", "none", "\tboth "];
        foreach (bool lmEval in new[] { false, true })
        {
            string path = dir.File($"edges-{lmEval}.safetensors");
            using (var writer = new TokenizedCorpusWriter(path, TokenizedCorpusInfo.Of(sp)))
            {
                foreach (string text in texts)
                {
                    writer.Add(sp.Encode(text, text, lmEval));
                }

                writer.Commit();
            }

            var expected = TokenizedText.Join([.. texts.Select(t => sp.Encode(t, t, lmEvalWords: true))], null, path);
            Assert.Equal(expected.Words, TokenizedCorpusFile.Read(path, lmEvalWords: true).Text.Words);
            Assert.Equal(TokenizedText.Join([.. texts.Select(t => sp.Encode(t, t))], null, path).Words, TokenizedCorpusFile.Read(path).Text.Words);
        }
    }

    [Fact]
    public void A_damaged_file_is_refused_naming_what_is_wrong()
    {
        using var dir = new TempDir();
        string good = dir.File("good.safetensors");
        var info = new TokenizedCorpusInfo { Tokenizer = "t", Vocabulary = 100 };
        using (var writer = new TokenizedCorpusWriter(good, info))
        {
            writer.Add(new TokenizedText([5, 6, 7], [1, 1, 1], [1, 0, 1], "a.txt", "t"));
            writer.Add(new TokenizedText([8, 9], [2, 2], [1, 1], "b.txt", "t") { WordEdges = 2 });
            writer.Commit();
        }

        byte[] bytes = File.ReadAllBytes(good);
        var tensors = SafetensorsFormat.ReadAll(good).ToDictionary(t => t.Name);
        void Refused(string name, Action<byte[]> damage, string fragment)
        {
            byte[] copy = (byte[])bytes.Clone();
            damage(copy);
            string path = dir.File(name + ".safetensors");
            File.WriteAllBytes(path, copy);
            var e = Assert.Throws<InvalidFileException>(() => TokenizedCorpusFile.Read(path, 0, lmEvalWords: true));
            Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
            Assert.StartsWith(path, e.Message, StringComparison.Ordinal);
        }

        void Put(byte[] file, string tensor, int index, long value, int size) =>
            BitConverter.GetBytes(value).AsSpan(0, size).CopyTo(file.AsSpan((int)tensors[tensor].DataOffset + index * size));

        Refused("negative", f => Put(f, "ids", 4, -2, 4), "'ids' holds -2 at token 1 of document 1 (b.txt)");
        Refused("words", f => Put(f, "words", 0, -1, 4), "'words' holds -1 at token 0 of document 0 (a.txt)");
        Refused("starts", f => Put(f, "document_starts", 1, 0, 8), "document 0 at [0, 0)");
        Refused("beyond", f => Put(f, "document_starts", 1, 9, 8), "document 0 at [0, 9) of 5 tokens");
        Refused("edges", f => Put(f, "document_edges", 1, 7, 1), "'document_edges' of document 1 is 7");
        Refused("names", f => Put(f, "document_names", 1, 0, 1), "holds 3 names for 2 documents");
        Refused("utf8", f => Put(f, "document_names", 0, 0xff, 1), "not UTF-8");
        Refused("version", f => Replace(f, "\"version\":\"1\"", "\"version\":\"7\""), "of version 7; this gpuinfo reads version 1");
        Refused("format", f => Replace(f, "gpuinfo.tokenized_corpus", "gpuinfo.tokenized_corpuz"), "is not a tokenized corpus");
        Refused("dtype", f => Replace(f, "\"dtype\":\"I64\"", "\"dtype\":\"F64\""), "'document_starts' is F64 [2]");
        Refused("missing", f => Replace(f, "\"document_prefix\":", "\"document_prefiz\":"), "__metadata__ has no 'document_prefix'");
        File.WriteAllBytes(dir.File("cut.safetensors"), bytes[..^3]);
        Assert.Throws<InvalidFileException>(() => TokenizedCorpusFile.Read(dir.File("cut.safetensors")));

        // Any byte changed: read, or refused with the file's name; never another exception.
        int seed = Random.Shared.Next();
        output.WriteLine($"seed {seed}");
        var random = new Random(seed);
        string fuzzed = dir.File("fuzz.safetensors");
        for (int i = 0; i < 300; i++)
        {
            byte[] copy = (byte[])bytes.Clone();
            for (int k = random.Next(1, 4); k > 0; k--)
            {
                copy[random.Next(i % 2 == 0 ? TokenizedCorpusWriter.HeaderRoom : 0, copy.Length)] = (byte)random.Next(256);
            }

            File.WriteAllBytes(fuzzed, copy);
            try
            {
                var read = TokenizedCorpusFile.Read(fuzzed, random.Next(2) == 0 ? null : 4, random.Next(2) == 0);
                Assert.True(read.Text.Ids.Length >= 5);
            }
            catch (InvalidFileException e)
            {
                Assert.StartsWith(fuzzed, e.Message, StringComparison.Ordinal);
            }
        }
    }

    private static void Replace(byte[] file, string from, string to)
    {
        Assert.Equal(from.Length, to.Length);
        int at = file.AsSpan().IndexOf(Encoding.UTF8.GetBytes(from));
        Assert.True(at > 0, from);
        Encoding.UTF8.GetBytes(to).CopyTo(file, at);
    }

    [Fact]
    public void Bad_use_is_a_one_line_error_and_leaves_no_file()
    {
        using var dir = new TempDir();
        string corpus = dir.File("docs.safetensors"), other = dir.File("other.safetensors");
        CliRunner.Json("tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", Documents, "--out", corpus, "--json");
        CliRunner.Json("tokenize", "--tokenizer", ModelFiles.Path("sp_bpe.model"), "--text", Documents, "--out", other, "--json");

        CliRunner.Fails(ExitCode.Usage, ["--out", "ids.txt", "give a .safetensors file"], "tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", Documents, "--out", dir.File("ids.txt"));
        CliRunner.Fails(ExitCode.Usage, ["was tokenized by", "score one tokenizer's ids at a time"], Perplexity("--tokens", corpus, other));
        CliRunner.Fails(ExitCode.Usage, ["--prefix-token 'the'", "keeps ids, not the tokenizer's tokens"], Perplexity("--tokens", corpus, "--prefix-token", "the"));
        CliRunner.Fails(ExitCode.Usage, ["has none", "Give --prefix-token as an id, or none"], Perplexity("--tokens", corpus, "--protocol", "rolling"));

        // A document of no tokens could not be scored: refused when tokenized, naming it; no file is left.
        File.WriteAllText(dir.File("empty.jsonl"), "{\"text\": \"a b\"}\n{\"text\": \"\"}\n");
        CliRunner.Fails(ExitCode.BadData, ["empty.jsonl:2", "has 0 tokens"], "tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", dir.File("empty.jsonl"), "--out", dir.File("empty.safetensors"));
        Assert.False(File.Exists(dir.File("empty.safetensors")));
        Assert.Empty(Directory.GetFiles(dir.Path, ".*"));

        // The model's vocabulary is checked against the corpus's tokenizer's, as against a loaded tokenizer's.
        string gpt2 = dir.File("gpt2.safetensors");
        CliRunner.Json("tokenize", "--tokenizer", "gpt2", "--text", ModelFiles.SampleText, "--out", gpt2, "--json");
        CliRunner.Fails(ExitCode.BadData, ["is smaller than the tokenizer's (50257, gpt2)"], Perplexity("--tokens", gpt2));
    }
}
