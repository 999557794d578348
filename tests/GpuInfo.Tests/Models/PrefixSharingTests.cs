using System.Runtime.InteropServices;
using GpuInfo.Corpus;
using GpuInfo.Models;
using GpuInfo.Tests.Corpus;

namespace GpuInfo.Tests.Models;

/// <summary>
/// Requests in groups that begin alike (<see cref="LoglikelihoodRequests.Grouped"/>): a model that takes and gives back its KV
/// cache runs the tokens each request shares with its group's first once, and scores every request as a run of each whole
/// does; optimum's real exports (GPT-2, a grouped-query Llama, a merged decoder) against themselves run without it.
/// </summary>
public sealed class PrefixSharingTests(CorpusEngineFixture fixture) : IClassFixture<CorpusEngineFixture>
{
    private static string Optimum(string name) => ModelFiles.Path(Path.Combine("optimum", name));

    [Theory]
    [InlineData("llama_gqa_with_past.onnx")]
    [InlineData("gpt2_with_past.onnx")]
    [InlineData("gpt2_decoder_model_merged.onnx")]
    public void Grouped_requests_score_as_each_run_whole(string file)
    {
        using var model = OnnxLanguageModel.Open(Optimum(file));
        Assert.True(model.ReusesPast, model.PastReuse);
        int seed = Random.Shared.Next();
        var (text, sizes, expectedShared) = Requests(new Random(seed), model.Vocab, out int[] sections);
        var alone = Score(model, text, out long none, out bool sharedAlone);
        var grouped = Score(model, LoglikelihoodRequests.Grouped(text, sizes, sections), out long shared, out bool sharing);
        Assert.False(sharedAlone);
        Assert.True(sharing);
        Assert.Equal(expectedShared, shared);
        Assert.Equal(0, none);
        for (int r = 0; r < alone.Length; r++)
        {
            Assert.True(Math.Abs(alone[r].LogLikelihood - grouped[r].LogLikelihood) <= 2e-5 * Math.Max(1, Math.Abs(alone[r].LogLikelihood)),
                $"seed {seed}, request {r}: {grouped[r].LogLikelihood:R} grouped, {alone[r].LogLikelihood:R} alone");
        }
    }

    [Theory]
    [InlineData(3)] // a whole section
    [InlineData(5)] // mid-section, after the section's first request
    public void A_shard_scores_as_the_whole_run_does_to_the_bit(int skipGroups)
    {
        using var model = OnnxLanguageModel.Open(Optimum("gpt2_with_past.onnx"));
        int seed = Random.Shared.Next();
        var (text, sizes, _) = Requests(new Random(seed), model.Vocab, out int[] sections);
        var whole = Score(model, LoglikelihoodRequests.Grouped(text, sizes, sections), out _, out _);
        int skipRequests = sizes.Take(skipGroups).Sum();
        int sectionFirst = sizes.Take(sections[0]).Sum(); // the second section's first request
        bool midSection = skipGroups > sections[0];
        var tail = Slice(text, skipRequests, midSection ? sectionFirst : null);
        int[] tailSizes = [.. midSection ? [1] : Array.Empty<int>(), .. sizes.Skip(skipGroups)];
        var shard = Score(model, LoglikelihoodRequests.Grouped(tail, tailSizes), out long shared, out _);
        Assert.True(shared > 0);
        int dropped = midSection ? 1 : 0;
        Assert.Equal(whole.Length - skipRequests, shard.Length - dropped);
        for (int r = 0; r < whole.Length - skipRequests; r++)
        {
            Assert.True(whole[skipRequests + r].LogLikelihood == shard[dropped + r].LogLikelihood, $"seed {seed}, request {skipRequests + r}: {shard[dropped + r].LogLikelihood:R} in the shard, {whole[skipRequests + r].LogLikelihood:R} in the whole run");
            Assert.Equal(whole[skipRequests + r].IsGreedy, shard[dropped + r].IsGreedy);
        }
    }

    [Fact]
    public void Windows_read_out_of_order_give_the_logits_read_in_order_to_the_bit()
    {
        // Each window's first row, last window first: every group's and section's first runs again where its keys and values are not held.
        using var model = OnnxLanguageModel.Open(Optimum("llama_gqa_with_past.onnx"));
        var (text, sizes, _) = Requests(new Random(11), model.Vocab, out int[] sections);
        var grouped = LoglikelihoodRequests.Grouped(text, sizes, sections);
        var options = new ModelWindowOptions { Protocol = WindowProtocol.Continuation, Context = 128 };
        using var inOrder = new ModelRowSource(model, grouped, options);
        using var reversed = new ModelRowSource(model, grouped, options);
        var expected = Enumerable.Range(0, inOrder.Windows.Count).Select(k => FirstRow(inOrder, k)).ToArray();
        for (int k = reversed.Windows.Count - 1; k >= 0; k--)
        {
            Assert.Equal(expected[k], FirstRow(reversed, k));
        }

        Assert.True(reversed.SharedTokens > 0);
    }

    private static float[] FirstRow(ModelRowSource source, int window)
    {
        var block = new RowBlock(1, source.Vocab, source.Type, hasTargets: true);
        block.Reset(source.Windows.FirstRow(window), 1);
        ((RowSource)source).Read(block);
        return MemoryMarshal.Cast<byte, float>(MemoryMarshal.CreateReadOnlySpan(in block.Logits.Start, source.Vocab * 4)).ToArray();
    }

    [Fact]
    public void A_model_whose_logits_change_with_a_past_fed_back_runs_each_request_whole()
    {
        // past_scaled.onnx scales its logits by 1 + the past's length: right only from an empty past.
        using var scaled = OnnxLanguageModel.Open(ModelFiles.Path("past_scaled.onnx"));
        Assert.False(scaled.ReusesPast);
        Assert.StartsWith("none: fed its first tokens' keys and values, a window's logits change by up to", scaled.PastReuse);
        using var plain = OnnxLanguageModel.Open(ModelFiles.Path("window.onnx"));
        Assert.False(plain.ReusesPast);
        Assert.Equal("none: it takes no past", plain.PastReuse);

        // window_past.onnx's mask covers the window alone: ONNX Runtime refuses one over a past too.
        using var narrow = OnnxLanguageModel.Open(ModelFiles.Path("window_past.onnx"));
        Assert.False(narrow.ReusesPast);
        Assert.StartsWith("none: ONNX Runtime failed on a window fed its first tokens' keys and values: ", narrow.PastReuse);

        var (text, sizes, _) = Requests(new Random(3), scaled.Vocab);
        var alone = Score(scaled, text, out _, out _);
        var grouped = Score(scaled, LoglikelihoodRequests.Grouped(text, sizes), out long shared, out bool sharing);
        Assert.False(sharing);
        Assert.Equal(0, shared);
        Assert.Equal(alone.Select(s => s.LogLikelihood), grouped.Select(s => s.LogLikelihood));
    }

    [Fact]
    public void Groups_must_cover_the_requests()
    {
        var (text, sizes, _) = Requests(new Random(5), 100);
        Assert.Equal("sizes", Assert.Throws<ArgumentException>(() => LoglikelihoodRequests.Grouped(text, sizes.Skip(1))).ParamName);
        Assert.Equal("sizes", Assert.Throws<ArgumentException>(() => LoglikelihoodRequests.Grouped(text, [0, .. sizes])).ParamName);
        Assert.Equal("sections", Assert.Throws<ArgumentException>(() => LoglikelihoodRequests.Grouped(text, sizes, [sizes.Length - 1])).ParamName);
        Assert.Equal("sections", Assert.Throws<ArgumentException>(() => LoglikelihoodRequests.Grouped(text, sizes, [0, sizes.Length])).ParamName);
        Assert.Equal("requests", Assert.Throws<ArgumentException>(() => LoglikelihoodRequests.Grouped(new TokenizedText([1, 2, 3], null, "t", "ids"), [1])).ParamName);
    }

    [Theory]
    [InlineData("gpt2_with_past.onnx", 3)]
    [InlineData("llama_gqa_with_past.onnx", 4)]
    public void Batches_of_several_windows_share_their_parent_s_past(string file, int batch)
    {
        using var model = OnnxLanguageModel.Open(Optimum(file));
        int seed = Random.Shared.Next();
        var (text, sizes, _) = Requests(new Random(seed), model.Vocab, out int[] sections);
        var alone = Score(model, text, out _, out _);
        var grouped = Score(model, LoglikelihoodRequests.Grouped(text, sizes, sections), out long shared, out bool sharing, batch);
        var one = Score(model, LoglikelihoodRequests.Grouped(text, sizes, sections), out long sharedOne, out _);
        Assert.True(sharing);
        Assert.True(shared > 0 && shared <= sharedOne, $"{shared} tokens shared in batches of {batch}, {sharedOne} one at a time");
        for (int r = 0; r < alone.Length; r++)
        {
            Assert.True(Math.Abs(alone[r].LogLikelihood - grouped[r].LogLikelihood) <= 2e-5 * Math.Max(1, Math.Abs(alone[r].LogLikelihood)),
                $"seed {seed}, request {r}: {grouped[r].LogLikelihood:R} in batches of {batch}, {alone[r].LogLikelihood:R} alone");
        }
    }

    /// <summary>
    /// Multiple-choice documents of random ids in two sections (3 documents, then 6), each document's context its section's
    /// examples (1 to 20 tokens) then its own 2 to 40, then 1 to 5 choices of 1 to 8 tokens (some beginning alike, some one
    /// token long, a document of one choice); and the tokens run once: each choice after its document's first shares its
    /// first up to its first scored position (its context less one), each document's first its section's first's, alike; a
    /// choice whose inputs are the choice before's (one-token choices) runs with it.
    /// </summary>
    private static (TokenizedText Text, int[] Sizes, long Shared) Requests(Random random, int vocab) => Requests(random, vocab, out _);

    private static (TokenizedText Text, int[] Sizes, long Shared) Requests(Random random, int vocab, out int[] sections)
    {
        var ids = new List<int>();
        var starts = new List<long>();
        var continuations = new List<int>();
        var sizes = new List<int>();
        long shared = 0;
        sections = [3, 6];
        int[] examples = [];
        int[]? sectionFirst = null;
        for (int d = 0; d < 9; d++)
        {
            if (d is 0 or 3)
            {
                examples = [.. Enumerable.Range(0, random.Next(1, 21)).Select(_ => random.Next(vocab))];
                sectionFirst = null;
            }

            int[] context = [.. examples, .. Enumerable.Range(0, random.Next(2, 41)).Select(_ => random.Next(vocab))];
            int choices = d == 4 ? 1 : random.Next(2, 6);
            int[] common = [.. Enumerable.Range(0, d % 3 == 0 ? random.Next(1, 3) : 0).Select(_ => random.Next(vocab))];
            int[]? first = null, previous = null;
            for (int c = 0; c < choices; c++)
            {
                int[] own = d == 7 ? [random.Next(vocab)] : [.. common, .. Enumerable.Range(0, random.Next(1, 7)).Select(_ => random.Next(vocab))];
                int[] request = [.. context, .. own];
                starts.Add(ids.Count);
                ids.AddRange(request);
                continuations.Add(own.Length);
                int[] inputs = request[..^1]; // a window's inputs: its request less the last token
                if (first is null)
                {
                    first = inputs;
                    if (sectionFirst is null)
                    {
                        sectionFirst = inputs;
                    }
                    else
                    {
                        shared += Math.Min(inputs.AsSpan().CommonPrefixLength(sectionFirst), context.Length - 1);
                    }
                }
                else if (!inputs.AsSpan().SequenceEqual(previous))
                {
                    shared += Math.Min(inputs.AsSpan().CommonPrefixLength(first), context.Length - 1);
                }

                previous = inputs;
            }

            sizes.Add(choices);
        }

        return (new TokenizedText([.. ids], null, "requests", "ids") { DocumentStarts = starts, Continuations = continuations }, [.. sizes], shared);
    }

    /// <summary>The requests from <paramref name="firstRequest"/> on, after request <paramref name="before"/> where given.</summary>
    private static TokenizedText Slice(TokenizedText text, int firstRequest, int? before = null)
    {
        int[] kept = [.. before is { } b ? [b] : Array.Empty<int>(), .. Enumerable.Range(firstRequest, text.DocumentStarts.Count - firstRequest)];
        var ids = new List<int>();
        var starts = new List<long>();
        foreach (int r in kept)
        {
            starts.Add(ids.Count);
            ids.AddRange(text.Document(r).ToArray());
        }

        return new TokenizedText([.. ids], null, "requests", "ids") { DocumentStarts = starts, Continuations = [.. kept.Select(r => text.Continuations![r])] };
    }

    private RequestScore[] Score(OnnxLanguageModel model, TokenizedText text, out long shared, out bool sharing, int batch = 1)
    {
        using var source = new ModelRowSource(model, text, new ModelWindowOptions { Protocol = WindowProtocol.Continuation, Context = 128, Batch = batch });
        var scores = LoglikelihoodScores.Run([fixture.Engine], source);
        (shared, sharing) = (source.SharedTokens, source.SharesPrefixes);
        return [.. Enumerable.Range(0, scores.Requests).Select(scores.Score)];
    }
}
