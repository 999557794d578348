using System.Text;
using GpuInfo.Formats;
using GpuInfo.Models;
using GpuInfo.Tests.Formats;

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

        // A character split over tokens (the robot's 4 bytes are 2 tokens): its bytes go to the first, and the sum stays exact.
        var robot = tokenizer.Encode("a🤖", "robot").Bytes!;
        Assert.Equal(5, robot.Sum());
        Assert.Equal(1, robot[0]);
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

    [Fact]
    public void A_hugging_face_tokenizer_json_loads_as_byte_level_bpe()
    {
        using var dir = new TempDir();
        string vocab = File.ReadAllText(ModelFiles.VocabJson);
        var merges = File.ReadAllLines(ModelFiles.Path("merges.txt")).Skip(1).Select(m => $"\"{m.Replace("\\", "\\\\", StringComparison.Ordinal)}\"");
        File.WriteAllText(dir.File("tokenizer.json"),
            $$"""{"model": {"type": "BPE", "vocab": {{vocab}}, "merges": [{{string.Join(",", merges)}}]}, "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false}, "added_tokens": []}""");
        var fromJson = TokenizerCatalog.Load(dir.Path).Encode(File.ReadAllText(ModelFiles.SampleText), "sample");
        Assert.Equal(ModelFiles.Sample().Ids, fromJson.Ids);
        Assert.Equal(ModelFiles.Vocab, TokenizerCatalog.Load(dir.File("tokenizer.json")).VocabularySize);
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
