using System.Text;
using System.Text.Json.Nodes;
using GpuInfo.Models;

namespace GpuInfo.Tests.Models;

/// <summary>sentencepiece.json (make_sentencepiece.py): SentencePiece 0.1.97's own ids for texts under the test models, and the check the tests make with them.</summary>
internal static class SentencePieceGolden
{
    /// <summary>The texts and ids at <paramref name="path"/> in sentencepiece.json ("texts"; "unigram_models", "sp_unigram.model").</summary>
    public static IEnumerable<(string Text, int[] Ids)> Texts(params string[] path)
    {
        var node = JsonNode.Parse(File.ReadAllText(ModelFiles.Path("sentencepiece.json")))!;
        node = path.Aggregate(node, (n, key) => n[key]!);
        return node.AsArray().Select(t => (t!["text"]!.GetValue<string>(), t["ids"]!.AsArray().Select(i => i!.GetValue<int>()).ToArray()));
    }

    /// <summary>
    /// Each text gives <paramref name="before"/> (the tokens the tokenizer adds) then SentencePiece's ids, and
    /// its tokens count every byte and word of the text as given (a text of nothing but spaces has no token to
    /// count them with). Returns how many texts were checked.
    /// </summary>
    public static int AssertGives(TextTokenizer tokenizer, IEnumerable<(string Text, int[] Ids)> golden, int[] before)
    {
        int texts = 0;
        foreach (var (text, ids) in golden)
        {
            var encoded = tokenizer.Encode(text, "text");
            Assert.True(before.Concat(ids).SequenceEqual(encoded.Ids), $"text {texts} ({text}): SentencePiece [{string.Join(",", ids)}], gpuinfo [{string.Join(",", encoded.Ids)}]");
            Assert.NotNull(encoded.Bytes);
            Assert.All(encoded.Bytes.Take(before.Length), b => Assert.Equal(0, b)); // an added token stands for no text
            if (ids.Length > 0)
            {
                Assert.Equal(Encoding.UTF8.GetByteCount(text), encoded.Bytes.Sum());
                Assert.Equal(text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length, encoded.Words!.Sum());
            }

            texts++;
        }

        return texts;
    }
}
