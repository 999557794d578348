using System.Text;
using GpuInfo.Cli;
using GpuInfo.Formats;
using GpuInfo.Models;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// A SentencePiece Unigram <c>.model</c> (T5's, mT5's, ALBERT's <c>spiece.model</c>) read as SentencePiece
/// encodes with it: SentencePiece 0.1.97's own ids (make_sentencepiece.py, sentencepiece.json
/// "unigram_models") under an identity model, an nmt_nfkc one with byte fallback, one with user-defined
/// pieces and neither dummy prefix nor space removal, and one with spaces as suffixes.
/// </summary>
public sealed class SentencePieceUnigramModelTests
{
    public static TheoryData<string> Models => ["sp_unigram.model", "sp_unigram_nfkc.model", "sp_unigram_user.model", "sp_unigram_suffix.model"];

    /// <summary>
    /// Every golden text gives SentencePiece's ids, and its tokens count every byte and word of the text as
    /// given, though the character map and the space rules changed it (a fullwidth letter's three bytes go
    /// with its letter, dropped spaces with the token after them).
    /// </summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void A_unigram_model_file_gives_sentencepieces_own_ids(string model)
    {
        var tokenizer = TokenizerCatalog.Load(ModelFiles.Path(model));
        Assert.IsType<UnigramTokenizer>(tokenizer.Tokenizer);
        Assert.Empty(tokenizer.AddedBefore);
        Assert.Null(tokenizer.BeginsEachText);
        Assert.Equal(15, SentencePieceGolden.AssertGives(tokenizer, SentencePieceGolden.Texts("unigram_models", model), []));
    }

    /// <summary>
    /// The model's own normalizer is SentencePiece's (longest match of the map, then the next char), not
    /// Hugging Face's conversion (a grapheme as the replacement of its shortest key): the two differ on
    /// stacked accents, where Hugging Face drops the second.
    /// </summary>
    [Fact]
    public void The_character_map_is_matched_longest_first_as_sentencepiece_does()
    {
        var model = TokenizerCatalog.Load(ModelFiles.Path("sp_unigram_nfkc.model"));
        Assert.Equal("nmt_nfkc, add_dummy_prefix, remove_extra_whitespaces, escape_whitespaces (SentencePiece)", model.Normalization);
        var normalizer = Assert.IsType<SentencePieceNormalizer>(model.Tokenizer.Normalizer);
        Assert.Equal("\u2581\u00E9\u0302", normalizer.Normalize("e\u0301\u0302")); // é by the key "e\u0301", then the circumflex as it is
        var converted = TokenizerCatalog.Load(ModelFiles.Path("sp_unigram_nfkc_tokenizer.json"));
        Assert.Equal("\u00E9", converted.Tokenizer.Normalizer!.Normalize("e\u0301\u0302")); // é: Hugging Face's shortest key of the grapheme

        var aligned = normalizer.Apply(" \uFF21\t\tb ", track: true);
        Assert.Equal("\u2581A\u2581b", aligned.Text);
        Assert.Equal([1, 1, 2, 4], aligned.Starts!); // the dummy prefix stands for nothing, at the first kept char
        Assert.Equal([1, 2, 3, 5], aligned.Ends!); // the tab kept as the run's one space stands for itself
    }

    /// <summary>
    /// The model's control and unknown pieces are found in the text first, as Hugging Face's tokenizers find
    /// them (spm_encode reads their characters), and each run between them is encoded with its own dummy prefix.
    /// </summary>
    [Fact]
    public void Control_pieces_in_the_text_are_found_first()
    {
        var tokenizer = TokenizerCatalog.Load(ModelFiles.Path("sp_unigram.model"));
        var unigram = (UnigramTokenizer)tokenizer.Tokenizer;
        int eos = unigram.SpecialTokens["</s>"];
        var alone = tokenizer.Encode("model", "t").Ids;
        var encoded = tokenizer.Encode("model</s>model", "t");
        Assert.Equal([.. alone, eos, .. alone], encoded.Ids);
        Assert.Equal(Encoding.UTF8.GetByteCount("model</s>model"), encoded.Bytes!.Sum());
        Assert.Equal(1, tokenizer.DocumentPrefix); // the trainer spec's BOS, as lm-evaluation-harness's prefix token
        Assert.Equal("a model of language", unigram.Decode(tokenizer.Encode("a model of language", "t").Ids));
    }

    /// <summary>A model SentencePiece refuses to load (a piece listed twice, a second unknown piece) is refused naming the file and the piece.</summary>
    [Fact]
    public void A_model_sentencepiece_would_not_load_is_refused_naming_the_piece()
    {
        using var dir = new TempDir();
        string model = ModelFiles.Path("sp_unigram.model");
        // A piece message (field 1): piece "<unk>" (field 1), type UNKNOWN (field 3 = 2).
        byte[] unknown = [0x0A, 0x09, 0x0A, 0x05, .. "<unk>"u8, 0x18, 0x02];
        string twice = dir.File("twice.model");
        File.WriteAllBytes(twice, [.. File.ReadAllBytes(model), .. unknown]);
        var e = Assert.Throws<InvalidFileException>(() => TokenizerCatalog.Load(twice));
        Assert.StartsWith(twice, e.Message, StringComparison.Ordinal);
        Assert.Contains("'<unk>', that is listed twice", e.Message, StringComparison.Ordinal);
        CliRunner.Fails(ExitCode.BadData, ["twice.model", "listed twice"], "tokenize", "--tokenizer", twice, "--text", ModelFiles.SampleText);
    }

    /// <summary>Through the command line: a perplexity-style tokenization of a file counts its every byte, and says which normalizer ran.</summary>
    [Fact]
    public void Tokenize_counts_every_byte_through_the_models_normalizer()
    {
        using var dir = new TempDir();
        string text = dir.File("t.txt");
        File.WriteAllText(text, "\uFF21\uFF42c  model\t\u2460 ﬁne \r\n");
        var json = CliRunner.Json("tokenize", "--tokenizer", ModelFiles.Path("sp_unigram_nfkc.model"), "--text", text);
        Assert.Equal("Unigram (GpuInfo.Models.UnigramTokenizer)", json["kind"]!.GetValue<string>());
        Assert.Equal(File.ReadAllBytes(text).Length, json["bytes_counted"]!.GetValue<long>());
        Assert.Contains("(SentencePiece)", json["normalizer"]!.GetValue<string>(), StringComparison.Ordinal);
    }
}
