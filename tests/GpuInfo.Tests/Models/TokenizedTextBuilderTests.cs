using GpuInfo.Models;

namespace GpuInfo.Tests.Models;

/// <summary>
/// Documents added one at a time, across the builder's blocks, give the text a plain concatenation gives:
/// ids, byte and word counts, document starts and prefix tokens, for random documents, texts of several documents,
/// and documents that already begin with the prefix token.
/// </summary>
public sealed class TokenizedTextBuilderTests
{
    [Fact]
    public void Random_documents_build_the_concatenated_text()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        for (int round = 0; round < 12; round++)
        {
            int? prefix = rng.Next(3) == 0 ? null : rng.Next(5);
            bool counted = rng.Next(4) != 0, bareOne = rng.Next(3) == 0;
            var builder = new TokenizedTextBuilder(prefix);
            var ids = new List<int>();
            var bytes = new List<int>();
            var words = new List<int>();
            var starts = new List<long>();
            int texts = rng.Next(1, 60);
            int bare = bareOne ? rng.Next(texts) : -1;
            for (int t = 0; t < texts; t++)
            {
                // A text of one document, or of several (joined before, as a tokenized corpus reads), some beginning with the prefix token.
                int documents = rng.Next(4) == 0 ? rng.Next(2, 5) : 1;
                var parts = new List<TokenizedText>();
                for (int d = 0; d < documents; d++)
                {
                    int length = rng.Next(10) == 0 ? rng.Next(3000, 9000) : rng.Next(1, 400);
                    var docIds = Enumerable.Range(0, length).Select(_ => rng.Next(7)).ToArray();
                    var docBytes = Enumerable.Range(0, length).Select(_ => rng.Next(6)).ToArray();
                    var docWords = Enumerable.Range(0, length).Select(_ => rng.Next(2)).ToArray();
                    bool withCounts = counted && t != bare;
                    parts.Add(new TokenizedText(docIds, withCounts ? docBytes : null, withCounts ? docWords : null, $"t{t}d{d}", "test"));
                }

                var text = documents == 1 ? parts[0] : TokenizedText.Join(parts, prefix, $"t{t}");
                for (int k = 0; k < text.DocumentStarts.Count; k++)
                {
                    starts.Add(ids.Count);
                    int from = (int)text.DocumentStarts[k];
                    var document = text.Document(k);
                    if (prefix is { } token && document[0] != token)
                    {
                        ids.Add(token);
                        bytes.Add(0);
                        words.Add(0);
                    }

                    ids.AddRange(document.ToArray());
                    bytes.AddRange(text.Bytes is null ? new int[document.Length] : text.Bytes.AsSpan(from, document.Length).ToArray());
                    words.AddRange(text.Words is null ? new int[document.Length] : text.Words.AsSpan(from, document.Length).ToArray());
                }

                builder.Add(text);
                Assert.Equal(ids.Count, builder.Count);
                Assert.Equal(starts.Count, builder.Documents);
            }

            var built = builder.Build("all");
            string context = $"seed {seed}, round {round}, prefix {prefix}";
            Assert.True(ids.SequenceEqual(built.Ids), context);
            Assert.True(starts.SequenceEqual(built.DocumentStarts), context);
            Assert.Equal(prefix, built.PrefixToken);
            Assert.Equal("all", built.Name);
            if (counted && !bareOne)
            {
                Assert.True(bytes.SequenceEqual(built.Bytes!), context);
                Assert.True(words.SequenceEqual(built.Words!), context);
            }
            else
            {
                Assert.Null(built.Bytes);
                Assert.Null(built.Words);
            }

            Assert.Equal(0, builder.Count);
            Assert.Throws<InvalidOperationException>(() => builder.Build("again"));
        }
    }

    /// <summary>A document of no tokens or a text joined with another prefix token is refused, naming it, and what was added before stays as it was.</summary>
    [Fact]
    public void A_refused_text_leaves_the_builder_as_it_was()
    {
        var builder = new TokenizedTextBuilder(9);
        builder.Add(new TokenizedText([1, 2], [1, 1], "a", "t"));
        var twoDocuments = new TokenizedText([3, 0, 4], null, "b", "t") { DocumentStarts = [0, 1, 1] };
        var e = Assert.Throws<ArgumentException>(() => builder.Add(twoDocuments));
        Assert.Contains("document 2 (b, its document 1) has no tokens", e.Message);
        Assert.Equal("text", e.ParamName);
        var joined = TokenizedText.Join([new TokenizedText([5], null, "c", "t")], 4, "c");
        Assert.Contains("c was joined with the prefix token 4, not 9", Assert.Throws<ArgumentException>(() => builder.Add(joined)).Message);
        Assert.Equal("prefixToken", Assert.Throws<ArgumentException>(() => new TokenizedTextBuilder(-1)).ParamName);

        builder.Add(new TokenizedText([9, 6], [0, 2], "d", "t"));
        var built = builder.Build("ad");
        Assert.Equal([9, 1, 2, 9, 6], built.Ids);
        Assert.Equal([0, 1, 1, 0, 2], built.Bytes!);
        Assert.Equal([0L, 3], built.DocumentStarts);
    }
}
