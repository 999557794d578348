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
        var (text, sizes, expectedShared) = Requests(new Random(seed), model.Vocab);
        var alone = Score(model, text, out long none, out bool sharedAlone);
        var grouped = Score(model, LoglikelihoodRequests.Grouped(text, sizes), out long shared, out bool sharing);
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

    [Fact]
    public void A_shard_of_whole_groups_scores_as_the_whole_run_does_to_the_bit()
    {
        using var model = OnnxLanguageModel.Open(Optimum("gpt2_with_past.onnx"));
        int seed = Random.Shared.Next();
        var (text, sizes, _) = Requests(new Random(seed), model.Vocab);
        var whole = Score(model, LoglikelihoodRequests.Grouped(text, sizes), out _, out _);
        int skipGroups = 2, skipRequests = sizes[0] + sizes[1];
        var tail = Slice(text, skipRequests);
        var shard = Score(model, LoglikelihoodRequests.Grouped(tail, sizes.Skip(skipGroups)), out long shared, out _);
        Assert.True(shared > 0);
        for (int r = 0; r < shard.Length; r++)
        {
            Assert.Equal(whole[skipRequests + r].LogLikelihood, shard[r].LogLikelihood);
            Assert.Equal(whole[skipRequests + r].IsGreedy, shard[r].IsGreedy);
        }
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
        Assert.Equal("requests", Assert.Throws<ArgumentException>(() => LoglikelihoodRequests.Grouped(new TokenizedText([1, 2, 3], null, "t", "ids"), [1])).ParamName);
    }

    [Fact]
    public void Batches_of_several_windows_run_each_whole()
    {
        using var model = OnnxLanguageModel.Open(Optimum("gpt2_with_past.onnx"));
        var (text, sizes, _) = Requests(new Random(7), model.Vocab);
        using var source = new ModelRowSource(model, LoglikelihoodRequests.Grouped(text, sizes), new ModelWindowOptions { Protocol = WindowProtocol.Continuation, Context = 128, Batch = 2 });
        Assert.False(source.SharesPrefixes);
    }

    /// <summary>
    /// Multiple-choice documents of random ids: a context of 3 to 40 tokens, then 1 to 5 choices of 1 to 8 tokens (some
    /// beginning alike, some one token long, a document of one choice), and the tokens each choice after the first
    /// shares with its document's first up to its first scored position (its context less one); a choice whose inputs are the
    /// choice before's (one-token choices) runs with it.
    /// </summary>
    private static (TokenizedText Text, int[] Sizes, long Shared) Requests(Random random, int vocab)
    {
        var ids = new List<int>();
        var starts = new List<long>();
        var continuations = new List<int>();
        var sizes = new List<int>();
        long shared = 0;
        for (int d = 0; d < 9; d++)
        {
            int[] context = [.. Enumerable.Range(0, random.Next(3, 41)).Select(_ => random.Next(vocab))];
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

    private static TokenizedText Slice(TokenizedText text, int firstRequest)
    {
        long from = text.DocumentStarts[firstRequest];
        return new TokenizedText(text.Ids[(int)from..], null, "requests", "ids")
        {
            DocumentStarts = [.. text.DocumentStarts.Skip(firstRequest).Select(s => s - from)],
            Continuations = [.. text.Continuations!.Skip(firstRequest)],
        };
    }

    private RequestScore[] Score(OnnxLanguageModel model, TokenizedText text, out long shared, out bool sharing)
    {
        using var source = new ModelRowSource(model, text, new ModelWindowOptions { Protocol = WindowProtocol.Continuation, Context = 128 });
        var scores = LoglikelihoodScores.Run([fixture.Engine], source);
        (shared, sharing) = (source.SharedTokens, source.SharesPrefixes);
        return [.. Enumerable.Range(0, scores.Requests).Select(scores.Score)];
    }
}
