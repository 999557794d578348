using System.Text.Json;
using System.Text.Json.Nodes;
using GpuInfo.Cli;
using GpuInfo.Models;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>
/// --detokenize wikitext against lm-evaluation-harness's own wikitext_detokenizer and process_results
/// (<c>make_wikitext_detokenizer.py</c>: 412 pages, random WikiText-style ones and edge cases): the same text, and
/// the page's words and bytes as that task counts them, while the tokens are the detokenized text's.
/// </summary>
public sealed class WikitextDetokenizerTests
{
    private sealed record Page(string Text, string Detokenized, long Words, long Bytes);

    private static readonly Lazy<Page[]> Golden = new(() =>
    {
        using var json = JsonDocument.Parse(File.ReadAllText(ModelFiles.Path("wikitext_detokenizer.json")));
        return json.RootElement.GetProperty("pages").EnumerateArray()
            .Select(p => new Page(p.GetProperty("page").GetString()!, p.GetProperty("detokenized").GetString()!, p.GetProperty("words").GetInt64(), p.GetProperty("bytes").GetInt64()))
            .ToArray();
    });

    [Fact]
    public void Pages_detokenize_as_lm_evaluation_harness_does()
    {
        Assert.True(Golden.Value.Length >= 400);
        foreach (var page in Golden.Value)
        {
            Assert.Equal(page.Detokenized, WikitextDetokenizer.Detokenize(page.Text));
        }
    }

    /// <summary>The detokenized text's tokens carry the page's bytes and words (lm-evaluation-harness's count_words, its edges too, with lmEvalWords), none negative.</summary>
    [Fact]
    public void Tokens_of_the_detokenized_text_count_the_pages_bytes_and_words()
    {
        var tokenizer = TokenizerCatalog.Load(ModelFiles.VocabJson);
        int checkedPages = 0;
        foreach (var page in Golden.Value.Where(p => p.Detokenized.Length > 0))
        {
            var scored = tokenizer.Encode(page.Detokenized, "page", lmEvalWords: true, countsOf: page.Text);
            Assert.Equal(page.Bytes, scored.Bytes!.Sum(b => (long)b));
            Assert.Equal(page.Words, scored.Words!.Sum(w => (long)w));
            Assert.DoesNotContain(scored.Bytes!, b => b < 0);
            Assert.DoesNotContain(scored.Words!, w => w < 0);
            Assert.Equal(tokenizer.Encode(page.Detokenized, "page").Ids, scored.Ids);
            Assert.Equal(TokenBytes.WordEdges(page.Text), scored.WordEdges);

            // Without lm-evaluation-harness's edges: the page's runs of non-space.
            var plain = tokenizer.Encode(page.Detokenized, "page", countsOf: page.Text);
            Assert.Equal(TokenBytes.CountWords(page.Text), plain.Words!.Sum(w => (long)w));
            checkedPages++;
        }

        Assert.True(checkedPages >= 400);
    }

    /// <summary>Counts over the total are taken from the last token back (the detokenizer's "/'[0-9]/" is longer than the "/' 5/" it replaces).</summary>
    [Fact]
    public void Counts_settle_to_a_total_above_or_below_their_sum()
    {
        int[] counts = [3, 0, 2, 1];
        TokenBytes.Settle(counts, 10, "t");
        Assert.Equal([3, 0, 2, 5], counts);
        TokenBytes.Settle(counts, 4, "t");
        Assert.Equal([3, 0, 1, 0], counts);
        TokenBytes.Settle(counts, 0, "t");
        Assert.Equal([0, 0, 0, 0], counts);
    }

    /// <summary>
    /// perplexity --protocol rolling --detokenize wikitext over a .jsonl of pages scores what it scores over their
    /// detokenized texts (the same loss, token for token), with each page's bytes and words as lm-evaluation-harness
    /// counts them; tokenize --out keeps those counts, and --tokens of that file scores the same.
    /// </summary>
    [Fact]
    public void Perplexity_scores_the_detokenized_pages_with_the_pages_bytes_and_words()
    {
        using var dir = new TempDir();
        var pages = Golden.Value.Where(p => p.Detokenized.Trim().Length > 0 && p.Text.Contains(" @-@ ", StringComparison.Ordinal)).Take(12).ToArray();
        Assert.True(pages.Length >= 5);
        File.WriteAllLines(dir.File("pages.jsonl"), pages.Select(p => new JsonObject { ["page"] = p.Text }.ToJsonString()));
        File.WriteAllLines(dir.File("detokenized.jsonl"), pages.Select(p => new JsonObject { ["page"] = p.Detokenized }.ToJsonString()));
        string[] model = ["perplexity", "--model", ModelFiles.Path("window.onnx"), "--context", "16", "--protocol", "rolling", "--prefix-token", "0", "--device", "cpu", "--json"];
        string[] run = [.. model, "--tokenizer", ModelFiles.VocabJson, "--text-field", "page"];
        var plain = CliRunner.Json([.. run, "--text", dir.File("detokenized.jsonl"), "--per-document", dir.File("plain.jsonl")]);
        var detokenized = CliRunner.Json([.. run, "--text", dir.File("pages.jsonl"), "--detokenize", "wikitext", "--per-document", dir.File("detok.jsonl")]);
        foreach (string field in new[] { "tokens", "documents", "windows", "mean_nll" })
        {
            Assert.Equal(plain[field]!.ToJsonString(), detokenized[field]!.ToJsonString());
        }

        var lines = File.ReadAllLines(dir.File("detok.jsonl")).Select(l => JsonNode.Parse(l)!).ToArray();
        var plainLines = File.ReadAllLines(dir.File("plain.jsonl")).Select(l => JsonNode.Parse(l)!).ToArray();
        Assert.Equal(pages.Length, lines.Length);
        double nll = 0;
        long bytes = 0, words = 0;
        for (int i = 0; i < pages.Length; i++)
        {
            Assert.Equal(pages[i].Bytes, (long)lines[i]["bytes"]!);
            Assert.Equal(pages[i].Words, (long)lines[i]["words"]!);
            Assert.Equal((double)plainLines[i]["loss_sum"]!, (double)lines[i]["loss_sum"]!);
            Assert.NotEqual((long)plainLines[i]["bytes"]!, (long)lines[i]["bytes"]!);
            (nll, bytes, words) = (nll + (double)lines[i]["loss_sum"]!, bytes + pages[i].Bytes, words + pages[i].Words);
        }

        // lm-evaluation-harness's aggregates: bits_per_byte = NLL / bytes / ln 2, word_perplexity = exp(NLL / words).
        Assert.Equal(nll / bytes / Math.Log(2), (double)detokenized["bits_per_byte"]!, 1e-12);
        Assert.Equal(Math.Exp(nll / words), (double)detokenized["word_perplexity"]!, Math.Exp(nll / words) * 1e-12);

        string corpus = dir.File("pages.safetensors");
        var tokenized = CliRunner.Json("tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", dir.File("pages.jsonl"), "--text-field", "page", "--detokenize", "wikitext", "--out", corpus, "--json");
        Assert.Equal("wikitext", (string)tokenized["detokenizer"]!);
        Assert.Equal(pages.Sum(p => p.Bytes), (long)tokenized["bytes_counted"]!);
        Assert.Equal("wikitext", TokenizedCorpusFile.TryReadInfo(corpus)!.Detokenizer);
        var fromFile = CliRunner.Json([.. model, "--tokens", corpus]);
        foreach (string field in new[] { "tokens", "mean_nll", "bits_per_byte", "word_perplexity" })
        {
            Assert.Equal(detokenized[field]!.ToJsonString(), fromFile[field]!.ToJsonString());
        }
    }

    [Fact]
    public void Another_detokenizer_is_a_usage_error()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("page.txt"), " = Title = \n Some role @-@ playing text . \n");
        CliRunner.Fails(ExitCode.Usage, ["--detokenize 'ptb': the detokenizer known is wikitext"], "tokenize", "--tokenizer", ModelFiles.VocabJson, "--text", dir.File("page.txt"), "--detokenize", "ptb");
    }

    /// <summary>The IB over a model's outputs encodes the detokenized pages and shows its contexts from them.</summary>
    [Fact]
    public void The_ib_shows_contexts_from_the_detokenized_text()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("page.txt"), string.Concat(Enumerable.Repeat(" @-@ playing text , with 1 @,@ 000 words . \n", 6)));
        string[] ib = ["ib", "--model", ModelFiles.Path("window.onnx"), "--tokenizer", ModelFiles.VocabJson, "--text", dir.File("page.txt"), "--context", "16", "--beta", "2", "--clusters", "2", "--device", "cpu", "--json"];
        string Shown(JsonObject report) => string.Concat(report["clusters"]!.AsArray().SelectMany(c => c!["examples"]!.AsArray()).Select(e => (string)e!["context"]! + (string?)e!["next"]));
        string given = Shown(CliRunner.Json(ib)), detokenized = Shown(CliRunner.Json([.. ib, "--detokenize", "wikitext"]));
        Assert.Contains("@", given, StringComparison.Ordinal);
        Assert.DoesNotContain("@", detokenized, StringComparison.Ordinal);
        Assert.StartsWith("-", detokenized, StringComparison.Ordinal);
    }
}
