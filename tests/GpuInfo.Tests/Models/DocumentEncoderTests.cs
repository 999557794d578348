using GpuInfo.Formats;
using GpuInfo.Models;

namespace GpuInfo.Tests.Models;

/// <summary>Documents encoded on several threads, each with its own tokenizer or all with one (SentencePiece BPE and Unigram, normalizing or not): the ids, bytes and words of one thread, in order, and the first failure in order.</summary>
public sealed class DocumentEncoderTests
{
    /// <summary>About 3 MB of documents of random lengths: more than a batch that runs in parallel.</summary>
    private static List<(string Name, string Content)> Documents(int seed)
    {
        var random = new Random(seed);
        string sample = File.ReadAllText(ModelFiles.SampleText) + " ½ naïve 🙂 русский\n";
        var documents = new List<(string, string)>();
        long chars = 0;
        while (chars < 3 * DocumentEncoder.ParallelChars)
        {
            int length = random.Next(1, 40_000);
            var text = string.Concat(Enumerable.Range(0, (length / sample.Length) + 2).Select(_ => sample))[random.Next(sample.Length)..][..length];
            documents.Add(($"doc{documents.Count}", text));
            chars += length;
        }

        return documents;
    }

    /// <summary>In one batch, and in several (each encoded while the one before is given to the caller; some too small to run in parallel).</summary>
    [Theory]
    [InlineData("gpt2", 16 << 20)]
    [InlineData("gpt2", 1_100_000)]
    [InlineData("sp_bpe.model", 16 << 20)]
    [InlineData("sp_bpe.model", 1_100_000)]
    [InlineData("sp_unigram_nfkc.model", 16 << 20)]
    [InlineData("sp_bpe_tokenizer.json", 16 << 20)]
    [InlineData("sp_unigram_nfkc_tokenizer.json", 1_100_000)]
    public void Several_threads_give_one_threads_ids_bytes_and_words_in_order(string tokenizer, int batchChars)
    {
        string spec = tokenizer.Contains('.', StringComparison.Ordinal) ? ModelFiles.Path(tokenizer) : tokenizer;
        int seed = Random.Shared.Next();
        var documents = Documents(seed);
        var one = TokenizerCatalog.Load(spec);
        var expected = documents.Select(d => one.Encode(d.Content, d.Name, lmEvalWords: true)).ToList();
        var encoder = new DocumentEncoder(TokenizerCatalog.Load(spec), () => TokenizerCatalog.Load(spec), threads: 3) { BatchChars = batchChars };
        var encoded = encoder.Encode(documents, lmEvalWords: true).ToList();
        Assert.Equal(documents.Count, encoded.Count);
        for (int d = 0; d < documents.Count; d++)
        {
            Assert.True(expected[d].Ids.SequenceEqual(encoded[d].Ids), $"seed {seed}, document {d}: other ids");
            Assert.Equal(expected[d].Bytes, encoded[d].Bytes);
            Assert.Equal(expected[d].Words, encoded[d].Words);
            Assert.Equal(documents[d].Name, encoded[d].Name);
        }

        // A tokenizer per worker but the first, made before they start; or, for gpuinfo's own SentencePiece BPE and Unigram, one for all.
        Assert.Equal(tokenizer == "gpt2" ? 2 : 0, encoder.TokenizersMade);
        Assert.Equal(tokenizer != "gpt2", one.SharesAcrossThreads);
    }

    /// <summary>A document of several pieces (about 1 MiB each, cut after a line break) is encoded a piece per worker.</summary>
    [Theory]
    [InlineData("gpt2")]
    [InlineData("sp_bpe.model")]
    [InlineData("vocab.json")]
    public void A_large_documents_pieces_are_encoded_on_several_threads_as_on_one(string tokenizer)
    {
        string spec = tokenizer.Contains('.', StringComparison.Ordinal) ? ModelFiles.Path(tokenizer) : tokenizer;
        var documents = Documents(11);
        string sample = File.ReadAllText(ModelFiles.SampleText) + "\n½ naïve 🙂 русский\n\n";
        string large = string.Concat(Enumerable.Repeat(sample, (5 << 20) / sample.Length));
        documents.Insert(3, ("large", large));
        documents.Add(("large again", large[1000..]));
        var one = TokenizerCatalog.Load(spec);
        var expected = documents.Select(d => one.Encode(d.Content, d.Name, lmEvalWords: true)).ToList();
        var encoder = new DocumentEncoder(TokenizerCatalog.Load(spec), () => TokenizerCatalog.Load(spec), threads: 2);
        var encoded = encoder.Encode(documents, lmEvalWords: true).ToList();
        for (int d = 0; d < documents.Count; d++)
        {
            Assert.True(expected[d].Ids.SequenceEqual(encoded[d].Ids), $"document {d}: other ids");
            Assert.Equal(expected[d].Bytes, encoded[d].Bytes);
            Assert.Equal(expected[d].Words, encoded[d].Words);
        }

        Assert.Equal(one.SharesAcrossThreads ? 0 : 1, encoder.TokenizersMade); // a tokenizer per worker but the first, or one shared
    }

    [Fact]
    public void The_first_failure_in_document_order_is_thrown()
    {
        var documents = Documents(7);
        var plain = TokenizerCatalog.Load("gpt2");
        TextTokenizer Refusing() => new(plain.Tokenizer, "gpt2", plain.VocabularySize, true) { UnsupportedAddedTokens = [("<bad>", "is refused here")] };
        documents[documents.Count / 2] = ("middle", "text <bad> here");
        documents[^1] = ("last", "<bad>");
        foreach (int batchChars in new[] { 16 << 20, 600_000 })
        {
            var encoder = new DocumentEncoder(Refusing(), Refusing, threads: 2) { BatchChars = batchChars };
            var e = Assert.Throws<InvalidFileException>(() => encoder.Encode(documents).ToList());
            Assert.StartsWith("middle: holds '<bad>'", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_document_that_cannot_be_read_fails_after_those_before_it_are_given()
    {
        var documents = Documents(3);
        IEnumerable<(string, string)> Read()
        {
            foreach (var d in documents)
            {
                yield return d;
            }

            throw new InvalidFileException("corpus.jsonl", "line 9 is not JSON.");
        }

        var encoder = new DocumentEncoder(TokenizerCatalog.Load("gpt2"), () => TokenizerCatalog.Load("gpt2"), threads: 2) { BatchChars = 500_000 };
        int given = 0;
        var e = Assert.Throws<InvalidFileException>(() =>
        {
            foreach (var _ in encoder.Encode(Read()))
            {
                given++;
            }
        });
        Assert.Equal("corpus.jsonl: line 9 is not JSON.", e.Message);
        Assert.Equal(documents.Count, given);
    }

    [Fact]
    public void A_tokenizer_that_cannot_be_made_again_fails_as_itself()
    {
        var encoder = new DocumentEncoder(TokenizerCatalog.Load("gpt2"), () => throw new InvalidFileException("tokenizer.json", "no such tokenizer file."), threads: 2);
        var e = Assert.Throws<InvalidFileException>(() => encoder.Encode(Documents(5)).ToList());
        Assert.Equal("tokenizer.json: no such tokenizer file.", e.Message);
    }

    [Fact]
    public void A_consumer_that_stops_early_stops_the_reader_and_the_workers()
    {
        int read = 0;
        IEnumerable<(string, string)> Endless()
        {
            while (true)
            {
                read++;
                yield return ($"doc{read}", string.Concat(Enumerable.Repeat("word ", 20_000)));
            }
        }

        // In batches of 3 documents: a batch is being encoded (each document rewritten on a worker) when the consumer stops.
        int rewritten = 0;
        var encoder = new DocumentEncoder(TokenizerCatalog.Load("gpt2"), () => TokenizerCatalog.Load("gpt2"), threads: 2) { BatchChars = 300_000 };
        Assert.Equal(3, encoder.Encode(Endless(), rewrite: t => { Interlocked.Increment(ref rewritten); return t; }).Take(3).Count());
        int after = read, encoded = Volatile.Read(ref rewritten);
        Assert.True(encoded >= 3);
        Thread.Sleep(100);
        Assert.Equal(after, read);
        Assert.Equal(encoded, Volatile.Read(ref rewritten));
    }
}
