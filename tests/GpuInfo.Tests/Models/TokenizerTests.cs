using System.Text;
using GpuInfo.Formats;
using GpuInfo.Models;
using GpuInfo.Tests.Formats;
using Microsoft.ML.Tokenizers;

namespace GpuInfo.Tests.Models;

/// <summary>Tokenizers by name and by file, and the byte counts that make bits per byte exact.</summary>
public sealed class TokenizerTests
{
    private const string Mixed = "Perplexity, naïvely: 2^(bits) — über-cool! 日本語のテキスト 🤖🎉 done.\n\n  indented\tline\r\nlast";

    [Fact]
    public void The_tiny_bpe_reproduces_the_generators_ids_and_counts_every_byte()
    {
        var text = ModelFiles.Sample();
        var expected = TokenizedText.ReadIds(ModelFiles.Path("sample_tokens.npy"));
        Assert.Equal(expected.Ids, text.Ids);
        Assert.NotNull(text.Bytes);
        Assert.Equal(ModelFiles.Golden["text_bytes"]!.GetValue<int>(), text.Bytes!.Sum());
        Assert.Equal(Encoding.UTF8.GetByteCount(File.ReadAllText(ModelFiles.SampleText)), text.Bytes.Sum());
    }

    [Theory]
    [InlineData("gpt2", 50257)]
    [InlineData("r50k_base", 50257)]
    [InlineData("cl100k_base", 100277)]
    [InlineData("o200k_base", 200019)]
    public void Built_in_vocabularies_count_the_bytes_of_any_text(string name, int vocabulary)
    {
        var tokenizer = TokenizerCatalog.Load(name);
        Assert.Equal(vocabulary, tokenizer.VocabularySize);
        var text = tokenizer.Encode(Mixed, "mixed");
        Assert.Equal(Encoding.UTF8.GetByteCount(Mixed), text.Bytes!.Sum());
        Assert.All(text.Bytes!, b => Assert.InRange(b, 0, 16));
        Assert.Equal(Mixed, tokenizer.Tokenizer.Decode(text.Ids));
    }

    [Fact]
    public void Gpt2_byte_counts_are_each_tokens_own_bytes()
    {
        var tokenizer = TokenizerCatalog.Load("gpt2");
        const string text = "Hello world, naïve café. The quick brown fox jumps over 13 lazy dogs.";
        var encoded = tokenizer.Encode(text, "text");
        Assert.Equal([15496, 995, 11], encoded.Ids[..3]);   // "Hello", " world", "," in GPT-2's vocabulary
        Assert.Equal(Encoding.UTF8.GetByteCount(text), encoded.Bytes!.Sum());
        for (int i = 0; i < encoded.Ids.Length; i++)
        {
            Assert.Equal(Encoding.UTF8.GetByteCount(tokenizer.Tokenizer.Decode([encoded.Ids[i]])), encoded.Bytes![i]);
        }

        // A character split over tokens (the robot's 4 bytes are 3 tokens): each counts the bytes it encodes, F0 9F, A4 and 96.
        var robot = tokenizer.Encode("a🤖", "robot");
        Assert.Equal([64, 8582, 97, 244], robot.Ids);
        Assert.Equal([1, 2, 1, 1], robot.Bytes!);
        Assert.Equal([1, 0, 0, 0], robot.Words!);
    }

    /// <summary>The tiktoken table read for byte counts is the one the tokenizer encodes with: every token's count is its entry's bytes.</summary>
    [Theory]
    [InlineData("gpt2")]
    [InlineData("r50k_base")]
    [InlineData("cl100k_base")]
    [InlineData("o200k_base")]
    public void Tiktoken_tokens_count_the_bytes_of_their_entry_in_the_encoding(string name)
    {
        var tokenizer = TokenizerCatalog.Load(name);
        var tiktoken = Assert.IsType<TiktokenTokenizer>(tokenizer.Tokenizer);
        // The library's own id -> bytes map (internal in Microsoft.ML.Tokenizers 3.0): what the ids decode to.
        var decoder = (IReadOnlyDictionary<int, ReadOnlyMemory<byte>>)typeof(TiktokenTokenizer)
            .GetProperty("Decoder", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(tiktoken)!;
        string text = Mixed + " <|endoftext|> é日本語🤖👩‍👩‍👧e\u0301";
        var encoded = tokenizer.Encode(text, "mixed");
        int[] bytes = encoded.Bytes!;
        Assert.Equal(Encoding.UTF8.GetByteCount(text), bytes.Sum());
        int split = 0;
        for (int i = 0; i < encoded.Ids.Length; i++)
        {
            Assert.Equal(decoder[encoded.Ids[i]].Length, bytes[i]);
            split += bytes[i] != Encoding.UTF8.GetByteCount(tiktoken.Decode([encoded.Ids[i]])) ? 1 : 0; // part of a character
        }

        Assert.True(split > 0, "the text has characters split over tokens");
        Assert.Equal(text, tiktoken.Decode(encoded.Ids));
    }

    /// <summary>The audit's case: byte-level BPE makes 'é' the tokens C3 and A9, one byte each, so the scored A9 counts its byte even when C3 goes unscored.</summary>
    [Fact]
    public void Byte_level_bpe_counts_one_byte_per_char_of_each_tokens_mapped_string()
    {
        var tokenizer = TokenizerCatalog.Load(ModelFiles.VocabJson);
        var encoded = tokenizer.Encode("é a b c d e", "e");
        Assert.Equal(["Ã", "©"], tokenizer.Tokenizer.EncodeToTokens("é", out _).Select(t => t.Value));
        Assert.Equal([1, 1, 2, 2, 2, 1, 1, 1, 1], encoded.Bytes!);
        Assert.Equal([1, 0, 1, 1, 1, 0, 1, 0, 1], encoded.Words!); // é, a, b, c, then " d e" as Ġ d Ġ e

        // Every token of the mixed text counts its own bytes: the UTF-8 of what it decodes to where that is whole characters.
        int[] mixed = tokenizer.Encode(Mixed, "mixed").Bytes!;
        Assert.Equal(Encoding.UTF8.GetByteCount(Mixed), mixed.Sum());
        var bpe = (BpeTokenizer)tokenizer.Tokenizer;
        var tokens = bpe.EncodeToTokens(Mixed, out _);
        for (int i = 0; i < tokens.Count; i++)
        {
            Assert.Equal(tokens[i].Value.Length, mixed[i]);
        }
    }

    /// <summary>SentencePiece byte fallback: each &lt;0xNN&gt; piece is one byte; BOS stands for none; unknown pieces count by the offsets.</summary>
    [Fact]
    public void Sentencepiece_byte_fallback_pieces_are_one_byte_each()
    {
        var vocab = new List<(string, float)> { ("<unk>", 0), ("<s>", 0), ("</s>", 0) };
        vocab.AddRange(Enumerable.Range(0, 256).Select(b => ($"<0x{b:X2}>", 0f)));
        vocab.AddRange(new[] { "a", "b", " ", "na", "ve" }.Select(p => (p, -1f)));
        var fallback = SentencePieceTokenizer.Create(vocab, 0, addBeginningOfSentence: true, addEndOfSentence: false, default,
            addDummyPrefix: false, escapeWhiteSpaces: false, treatWhitespaceAsSuffix: false, byteFallback: true);
        const string text = "é a🤖 naïve";
        var encoded = new TextTokenizer(fallback, "sp", 264, false).Encode(text, "text");
        var pieces = fallback.EncodeToTokens(text, out _).Select(t => t.Value).ToArray();
        Assert.Equal(["<s>", "<0xC3>", "<0xA9>", " ", "a", "<0xF0>", "<0x9F>", "<0xA4>", "<0x96>", " ", "na", "<0xC3>", "<0xAF>", "ve"], pieces);
        Assert.Equal([0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 1, 1, 2], encoded.Bytes!);
        Assert.Equal(Encoding.UTF8.GetByteCount(text), encoded.Bytes!.Sum());
        Assert.Equal(3, encoded.Words!.Sum());

        // Without byte fallback a character the vocabulary lacks is one unknown token: counted by its offsets.
        var unknown = SentencePieceTokenizer.Create(vocab.Take(3).Concat(vocab.Skip(259)), 0, false, false, default, false, false, false, false);
        var plain = new TextTokenizer(unknown, "sp", 8, false).Encode(text, "text");
        Assert.Equal(Encoding.UTF8.GetByteCount(text), plain.Bytes!.Sum());
        Assert.Equal(2, plain.Bytes![0]);
    }

    [Fact]
    public void Pieces_that_do_not_add_up_to_the_text_fall_back_to_the_offsets_and_the_sum_stays_exact()
    {
        const string text = "éab";                            // 4 bytes: é is 2
        int[] ends = [1, 1, 2, 3];
        Assert.Equal([2, 0, 1, 1], TokenBytes.FromOffsets(text, ends));
        Assert.Equal([1, 1, 1, 1], TokenBytes.FromPieces(text, ends, [1, 1, 1, 1]));
        Assert.Equal([1, 1, 1, 1], TokenBytes.FromPieces(text, ends, [1, 1, -1, 1]));   // an unknown piece where the offsets know
        Assert.Equal([2, 0, 1, 1], TokenBytes.FromPieces(text, ends, [2, 1, 1, 1]));   // too many bytes: never agrees again, offsets
        Assert.Equal([1, 1, 1, 1], TokenBytes.FromPieces(text, ends, [1, 1, 3, 1]));   // agrees for é, then falls back
        Assert.Equal(4, TokenBytes.FromPieces(text, ends, [0, 0, 0, 0]).Sum());
    }

    /// <summary>Counted a part per worker, bytes and words are what one pass over the whole text gives: backward and repeated ends, surrogate pairs, zero-byte tokens.</summary>
    [Fact]
    public void Bytes_and_words_counted_in_parts_are_those_of_one_pass()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        string[] atoms = ["a", "bc", " ", "\n", "é", "日本", "🙂", "\u3000", "x y", "\n\n", "\ud800"];
        for (int round = 0; round < 200; round++)
        {
            var text = new StringBuilder();
            var cuts = new List<int> { 0 };
            int atomsWanted = rng.Next(1, 200);
            for (int a = 0; a < atomsWanted; a++)
            {
                if (a > 0 && rng.Next(8) == 0)
                {
                    cuts.Add(text.Length); // between atoms: never inside a surrogate pair
                }

                text.Append(atoms[rng.Next(atoms.Length)]);
            }

            string t = text.ToString();
            cuts = [.. cuts.Distinct()];
            var chars = cuts.Select((c, k) => (Start: c, End: k + 1 < cuts.Count ? cuts[k + 1] : t.Length)).ToList();
            int tokens = rng.Next(1, t.Length + 2);
            var ends = Enumerable.Range(0, tokens).Select(_ => rng.Next(-2, t.Length + 3)).Order().ToArray();
            for (int i = 0; i < ends.Length; i++)
            {
                if (rng.Next(10) == 0)
                {
                    ends[i] = rng.Next(0, t.Length + 1); // out of order now and then
                }
            }

            int[] firstTokens = [.. Enumerable.Range(0, chars.Count).Select(k => k * tokens / chars.Count)];
            var parts = new TextParts(chars, firstTokens, (n, body) => Parallel.For(0, n, body));
            int[] pieces = [.. ends.Select(_ => rng.Next(-1, 4))];
            Assert.True(TokenBytes.FromPieces(t, ends, pieces).SequenceEqual(TokenBytes.FromPieces(t, ends, pieces, parts)), $"seed {seed}, round {round}: bytes");
            var bytes = TokenBytes.FromPieces(t, ends, pieces);
            Assert.True(TokenBytes.Words(t, bytes).SequenceEqual(TokenBytes.Words(t, bytes, parts)), $"seed {seed}, round {round}: words");
        }
    }

    /// <summary>
    /// A text encoded to ids alone, each id's bytes from a table (tiktoken's, a byte-level BPE's vocabulary), gives the ids,
    /// bytes and words of one encoded with every token's offsets: special tokens, characters split over tokens, lone surrogates.
    /// </summary>
    [Theory]
    [InlineData("gpt2")]
    [InlineData("cl100k_base")]
    [InlineData("o200k_base")]
    [InlineData("vocab.json")]
    [InlineData("nfc")]     // a tokenizer.json that normalizes (Qwen's NFC): pieces it leaves as they are go by ids
    [InlineData("nfkc")]    // NFKC changes the fullwidth and compatibility characters: those pieces go by offsets
    public void Ids_alone_give_the_ids_bytes_and_words_of_the_offsets(string name)
    {
        using var dir = new TempDir();
        string path = name switch
        {
            "vocab.json" => ModelFiles.Path(name),
            "nfc" or "nfkc" => dir.File("tokenizer.json"),
            _ => name,
        };
        if (name is "nfc" or "nfkc")
        {
            ModelFiles.WriteTokenizerJson(path, normalizer: $$"""{"type": "{{name.ToUpperInvariant()}}"}""");
        }

        var byIds = TokenizerCatalog.Load(path);
        var byOffsets = TokenizerCatalog.Load(path);
        byOffsets.EncodesByIds = false;
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        int plain = 0;
        string[] atoms = ["The", " cat", " sat", "'s", " 42", "1234567", "é", "日本語", "🙂", "👩‍👩‍👧", "\u3000", "\r\n", "\n\n", "   ", "\t", "<|endoftext|>", "\ud800", "Ünïcödé", " x", ".", "ab", "e\u0301", "ｆｕｌｌ", "ﬁ"];
        string[] kept = [.. atoms.Where(a => !a.Contains('\ud800', StringComparison.Ordinal) && (byIds.Tokenizer.Normalizer?.Normalize(a) ?? a) == a)];
        for (int round = 0; round < 60; round++)
        {
            var text = new StringBuilder();
            for (int a = rng.Next(0, 120); a > 0; a--)
            {
                text.Append(round % 2 == 0 ? atoms[rng.Next(atoms.Length)] : kept[rng.Next(kept.Length)]); // every other text of atoms that go by ids
            }

            string t = text.ToString();
            // Pieces that should go by ids: not empty, no lone surrogate, and left as they are by the normalizer.
            plain += t.Length > 0 && !t.Contains('\ud800', StringComparison.Ordinal) && (byIds.Tokenizer.Normalizer?.Normalize(t) ?? t) == t ? 1 : 0;
            bool lmEval = rng.Next(2) == 0;
            var fast = byIds.Encode(t, "t", lmEval);
            var slow = byOffsets.Encode(t, "t", lmEval);
            string what = $"{name}, seed {seed}, round {round}";
            Assert.True(slow.Ids.SequenceEqual(fast.Ids), what + ": ids");
            Assert.True(slow.Bytes!.SequenceEqual(fast.Bytes!), what + ": bytes");
            Assert.True(slow.Words!.SequenceEqual(fast.Words!), what + ": words");
        }

        // Every text but the empty ones (no piece) and those with a lone surrogate (which may go to the offsets) is encoded to ids alone.
        Assert.True(plain >= 5 && byIds.PiecesByIds >= plain, $"{name}: {byIds.PiecesByIds} texts encoded to ids alone, of {plain} without a lone surrogate or a character the normalizer changes");
        Assert.Equal(0, byOffsets.PiecesByIds);
    }

    [Theory]
    [InlineData("The cat sat.", new[] { 4, 4, 4 }, new[] { 1, 1, 1 })]
    [InlineData("  lead and trail \n", new[] { 6, 4, 8 }, new[] { 1, 1, 1 })]
    [InlineData("a\u3000b\u001cc\u00a0d\u200be", new[] { 4, 6, 4 }, new[] { 1, 3, 0 })] // ideographic space, U+001C and no-break space part words (Python's \s); a zero-width space does not
    [InlineData("日本 語", new[] { 1, 5, 1, 3 }, new[] { 1, 0, 0, 1 })]                      // 日's first byte alone in a token: the word is that token's
    [InlineData("", new int[0], new int[0])]
    public void Words_are_runs_of_non_whitespace_and_belong_to_the_token_holding_their_first_byte(string text, int[] bytes, int[] expected)
    {
        Assert.Equal(Encoding.UTF8.GetByteCount(text), bytes.Sum());
        Assert.Equal(expected, TokenBytes.Words(text, bytes));
    }

    [Fact]
    public void Long_texts_are_encoded_in_pieces_with_the_same_ids()
    {
        var tokenizer = TokenizerCatalog.Load("gpt2");
        var line = new StringBuilder();
        for (int i = 0; line.Length < 600_000; i++)
        {
            line.Append(Mixed).Append(" line ").Append(i).Append('\n');
        }

        string text = line.ToString() + line;
        var whole = tokenizer.Tokenizer.EncodeToIds(text);
        var pieces = tokenizer.Encode(text, "long");
        Assert.Equal(whole.Count, pieces.Ids.Length);
        Assert.True(whole.SequenceEqual(pieces.Ids));
        Assert.Equal(Encoding.UTF8.GetByteCount(text), pieces.Bytes!.Sum());
    }

    /// <summary>
    /// A built-in encoding's regex reads code points, as tiktoken does: these are the ids of
    /// gpt-tokenizer 4.0.0 (tiktoken's JavaScript port, npm), where the library's own regex, seeing
    /// surrogates, split "𝟏𝟐𝟑𝟒" and "a𝔘b" otherwise.
    /// </summary>
    [Fact]
    public void Built_in_encodings_read_characters_beyond_the_bmp_as_tiktoken_does()
    {
        int[] expected = [87, 220, 57352, 253, 237, 57352, 253, 238, 57352, 253, 239, 57352, 253, 240, 264, 57352, 242, 246, 65, 91416, 13997];
        const string text = "x 𝟏𝟐𝟑𝟒 a𝔘b 😀abc";
        var encoded = TokenizerCatalog.Load("cl100k_base").Encode(text, "t");
        Assert.Equal(expected, encoded.Ids);
        Assert.Equal(Encoding.UTF8.GetByteCount(text), encoded.Bytes!.Sum());
    }

    [Fact]
    public void A_hugging_face_tokenizer_json_loads_as_byte_level_bpe()
    {
        using var dir = new TempDir();
        ModelFiles.WriteTokenizerJson(dir.File("tokenizer.json"));
        var fromJson = TokenizerCatalog.Load(dir.Path).Encode(File.ReadAllText(ModelFiles.SampleText), "sample");
        Assert.Equal(ModelFiles.Sample().Ids, fromJson.Ids);
        Assert.Equal(ModelFiles.Vocab, TokenizerCatalog.Load(dir.File("tokenizer.json")).VocabularySize);
    }

    /// <summary>
    /// A long text's pieces give the ids and bytes of the text encoded whole: a line break a WordLevel model drops
    /// between two pieces goes with the token after it, as in one piece (it went with the one before); where
    /// pieces fail, the first is named.
    /// </summary>
    [Fact]
    public void Pieces_give_the_ids_and_bytes_of_the_whole_text_and_the_first_error()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.json"), """{"model": {"type": "WordLevel", "vocab": {"a": 0, "bb": 1, "c": 2}}, "pre_tokenizer": {"type": "WhitespaceSplit"}}""");
        var whole = TokenizerCatalog.Load(dir.File("tokenizer.json"));
        var pieces = new TextTokenizer(whole.Tokenizer, whole.Name, whole.VocabularySize, whole.SplitsAtLines) { PieceChars = 3 };
        string text = string.Concat(Enumerable.Range(0, 300).Select(i => (i % 3) switch { 0 => "a\n", 1 => "bb c\n", _ => "c a\n" }));
        Assert.Equal(whole.Encode(text, "t").Ids, pieces.Encode(text, "t").Ids);
        Assert.Equal(whole.Encode(text, "t").Bytes, pieces.Encode(text, "t").Bytes);

        string bad = text + "x\n" + text + "y\n";
        var e = Assert.Throws<InvalidFileException>(() => pieces.Encode(bad, "corpus.txt"));
        Assert.Contains($"U+0078 (first at char {text.Length})", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A character-level BPE whose merges join pieces with spaces in them (kakarotr's), which Microsoft.ML's "left right"
    /// merges cannot name, has U+FFFF stand for its spaces: the Rust library's ids (tokenizers 0.22.2:
    /// [4, 2, 0, 1, 3, 5, 4, 2, 2, 3]), each byte counted; a text holding U+FFFF itself is refused, naming it.
    /// </summary>
    [Fact]
    public void A_character_level_bpe_merges_pieces_with_spaces_as_the_rust_library_does()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.json"), """{"model": {"type": "BPE", "vocab": {"a": 0, " ": 1, "  ": 2, "b": 3, "ab": 4, "   ": 5}, "merges": [["a", "b"], [" ", " "], ["  ", " "]]}, "pre_tokenizer": {"type": "Split", "pattern": {"Regex": " +"}, "behavior": "Isolated", "invert": false}}""");
        var tokenizer = TokenizerCatalog.Load(dir.File("tokenizer.json"));
        var encoded = tokenizer.Encode("ab  a b   ab    b", "t");
        Assert.Equal([4, 2, 0, 1, 3, 5, 4, 2, 2, 3], encoded.Ids);
        Assert.Equal([2, 2, 1, 1, 1, 3, 2, 2, 2, 1], encoded.Bytes!);
        Assert.Equal("ab  a", tokenizer.Tokenizer.Decode([4, 2, 0]));
        var e = Assert.Throws<InvalidFileException>(() => tokenizer.Encode("ab \uFFFF", "corpus.txt"));
        Assert.Contains("U+FFFF (first at char 3), a noncharacter gpuinfo stands for the model's spaces", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A BPE naming an unk_token its vocabulary lacks is refused naming it: the Rust library fails on the first character
    /// outside the vocabulary ("Unk token `[UNK]` not found"), where Microsoft.ML's BPE would drop it. Without an
    /// unk_token both drop it: "ab xab ba" is the Rust library's [2, 2, 1, 0].
    /// </summary>
    [Fact]
    public void An_unk_token_the_vocabulary_lacks_is_refused_naming_it()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("missing.json"), """{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"]], "unk_token": "[UNK]"}, "pre_tokenizer": {"type": "WhitespaceSplit"}}""");
        var e = Assert.Throws<InvalidFileException>(() => TokenizerCatalog.Load(dir.File("missing.json")));
        Assert.Contains("names the unk_token '[UNK]', which its vocabulary lacks", e.Message, StringComparison.Ordinal);
        File.WriteAllText(dir.File("none.json"), """{"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": [["a", "b"]]}, "pre_tokenizer": {"type": "WhitespaceSplit"}}""");
        Assert.Equal([2, 2, 1, 0], TokenizerCatalog.Load(dir.File("none.json")).Encode("ab xab ba", "t").Ids);
    }

    [Fact]
    public void Missing_and_unreadable_tokenizers_name_the_file()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.json"), "{\"model\": {\"type\": \"WordPiece\", \"vocab\": {}}}");
        File.WriteAllText(dir.File("junk.json"), "not json");
        File.WriteAllText(dir.File("vocab.json"), "{}");
        foreach (string path in new[] { dir.File("tokenizer.json"), dir.File("junk.json"), dir.File("vocab.json"), dir.File("missing.json"), dir.File("x.txt") })
        {
            File.WriteAllText(dir.File("x.txt"), "text");
            var e = Assert.Throws<InvalidFileException>(() => TokenizerCatalog.Load(path));
            Assert.Equal(path, e.Path);
            Assert.DoesNotContain("\n", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Ids_files_must_be_one_sequence_of_vocabulary_indices()
    {
        using var dir = new TempDir();
        NpyFormat.Write<long>(dir.File("two.npy"), new long[6], [2, 3]);
        NpyFormat.Write<long>(dir.File("negative.npy"), [1, -5, 2], [3]);
        NpyFormat.Write<int>(dir.File("ok.npy"), [1, 2, 3], [1, 3]);
        Assert.Equal(dir.File("two.npy"), Assert.Throws<InvalidFileException>(() => TokenizedText.ReadIds(dir.File("two.npy"))).Path);
        Assert.Contains("-5", Assert.Throws<InvalidFileException>(() => TokenizedText.ReadIds(dir.File("negative.npy"))).Message, StringComparison.Ordinal);
        Assert.Equal([1, 2, 3], TokenizedText.ReadIds(dir.File("ok.npy")).Ids);
    }
}
