using GpuInfo.Models;

namespace GpuInfo.Tests.Models;

/// <summary>
/// The window arithmetic against literal transcriptions of the Hugging Face guide's loop, of
/// lm-evaluation-harness's <c>get_rolling_token_windows</c>, <c>make_disjoint_window</c> and the
/// model input its <c>_loglikelihood_tokens</c> builds, and of llama.cpp's <c>perplexity()</c> loop.
/// </summary>
public sealed class ModelWindowsTests
{
    /// <summary>(token, window input, position) for every scored token, in the guide's order: begin += stride, trg_len = end − prev_end, labels shifted by one.</summary>
    private static List<(long Token, long Begin, int Length, int Position)> GuideLoop(int n, int context, int stride, int offset = 0)
    {
        var scored = new List<(long, long, int, int)>();
        int prevEnd = 0;
        for (int begin = 0; begin < n; begin += stride)
        {
            int end = Math.Min(begin + context, n);
            int trgLen = end - prevEnd;
            for (int label = Math.Max(end - trgLen, begin + 1); label < end; label++)
            {
                scored.Add((offset + label, offset + begin, end - begin, label - begin - 1));
            }

            prevEnd = end;
            if (end == n)
            {
                break;
            }
        }

        return scored;
    }

    /// <summary>
    /// lm-evaluation-harness over a document whose first token is the prefix: its windows (input
    /// tokens, predicted tokens) with context_len 1, made disjoint, and the model input
    /// (context + continuation)[-(max_length + 1):][:-1], whose last len(continuation) logits score
    /// the continuation. Tokens are positions in the sequence.
    /// </summary>
    private static List<(long Token, long Begin, int Length, int Position)> HarnessLoop(int n, int maxLength, int offset = 0)
    {
        var tokenList = Enumerable.Range(offset + 1, n - 1).ToList(); // the tokens to predict, as sequence positions
        int prefix = offset;
        var windows = new List<(List<int> Input, List<int> Predicted)>();
        int predLen = maxLength - 1 + 1, predicted = 0;
        int firstSeqLen = Math.Min(maxLength, tokenList.Count);
        windows.Add(([prefix, .. tokenList.Take(firstSeqLen - 1)], tokenList.Take(firstSeqLen).ToList()));
        predicted += firstSeqLen;
        while (predicted < tokenList.Count)
        {
            int windowPredLen = Math.Min(tokenList.Count - predicted, predLen);
            int windowEnd = predicted + windowPredLen;
            windows.Add((tokenList.GetRange(windowEnd - maxLength - 1, maxLength), tokenList.GetRange(windowEnd - windowPredLen, windowPredLen)));
            predicted += windowPredLen;
        }

        var scored = new List<(long, long, int, int)>();
        foreach (var (a, b) in windows)
        {
            var context = a.Take(a.Count - (b.Count - 1)).ToList(); // make_disjoint_window
            var all = context.Concat(b).ToList();
            var input = all.Skip(Math.Max(0, all.Count - (maxLength + 1))).ToList();
            input.RemoveAt(input.Count - 1);
            for (int i = 0; i < input.Count - 1; i++)
            {
                Assert.Equal(input[i] + 1, input[i + 1]); // a window is a run of the sequence
            }

            for (int j = 0; j < b.Count; j++)
            {
                int position = input.Count - b.Count + j;
                scored.Add((b[j], input[0], input.Count, position));
            }
        }

        return scored;
    }

    private static void AssertRows(List<(long Token, long Begin, int Length, int Position)> expected, ModelWindows windows)
    {
        Assert.Equal(expected.Count, windows.Rows);
        for (int r = 0; r < expected.Count; r++)
        {
            var (k, position) = windows.Locate(r);
            Assert.True((expected[r].Begin, expected[r].Length, expected[r].Position) == (windows.Begin(k), windows.Length(k), position),
                $"row {r}: expected window [{expected[r].Begin}, +{expected[r].Length}) position {expected[r].Position}, got [{windows.Begin(k)}, +{windows.Length(k)}) position {position}");
            Assert.Equal(expected[r].Token, windows.TokenOfRow(r));
            Assert.Equal(windows.Begin(k) + position + 1, windows.TokenOfRow(r));
        }
    }

    [Theory]
    [InlineData(2, 2, 1)]
    [InlineData(10, 4, 4)]
    [InlineData(33, 32, 32)]
    [InlineData(100, 16, 5)]
    [InlineData(100, 16, 1)]
    [InlineData(7, 16, 8)]
    [InlineData(1000, 64, 63)]
    [InlineData(1001, 64, 64)]
    public void Sliding_rows_are_the_guides_scored_tokens_in_order(int n, int context, int stride)
    {
        var windows = ModelWindows.Sliding(n, context, stride);
        AssertRows(GuideLoop(n, context, stride), windows);
        Assert.Equal(WindowProtocol.Sliding, windows.Protocol);
        if (stride < context)
        {
            Assert.Equal(n - 1, windows.Rows);
        }
    }

    [Theory]
    [InlineData(2, 2)]
    [InlineData(3, 2)]
    [InlineData(10, 4)]
    [InlineData(33, 32)]
    [InlineData(34, 32)]
    [InlineData(100, 16)]
    [InlineData(7, 16)]
    [InlineData(1001, 64)]
    [InlineData(1000, 999)]
    public void Rolling_rows_are_lm_evaluation_harness_scored_tokens_in_order(int n, int context)
    {
        var windows = ModelWindows.Rolling(n, context);
        AssertRows(HarnessLoop(n, context), windows);
        Assert.Equal(n - 1, windows.Rows);
        Assert.Equal(1, windows.Unscored);
        Assert.True(Enumerable.Range(0, windows.Count).All(k => windows.Length(k) == Math.Min(context, n - 1)), "every window a full context where the document has one");
    }

    /// <summary>llama.cpp's perplexity(): n / n_ctx chunks, logits j = n_ctx/2 … n_ctx − 2 of chunk i scoring token i·n_ctx + j + 1.</summary>
    private static List<(long Token, long Begin, int Length, int Position)> LlamaCppLoop(int n, int nCtx, int offset = 0)
    {
        var scored = new List<(long, long, int, int)>();
        int first = nCtx / 2;
        for (int i = 0; i < n / nCtx; i++)
        {
            int start = i * nCtx;
            for (int j = first; j < nCtx - 1; j++)
            {
                scored.Add((offset + start + j + 1, offset + start, nCtx, j));
            }
        }

        return scored;
    }

    [Theory]
    [InlineData(4, 4)]
    [InlineData(100, 16)]
    [InlineData(100, 17)]
    [InlineData(1024, 512)]
    [InlineData(1023, 512)]
    public void Chunk_rows_are_llama_cpp_scored_tokens_in_order(int n, int context)
    {
        var windows = ModelWindows.Chunks(n, context);
        AssertRows(LlamaCppLoop(n, context), windows);
        Assert.True(windows.FirstInputReplaced);
        Assert.Equal(n / context, windows.Count);
    }

    [Theory]
    [InlineData(WindowProtocol.Chunks, 6, 6)]
    [InlineData(WindowProtocol.Sliding, 8, 3)]
    [InlineData(WindowProtocol.Sliding, 8, 8)]
    [InlineData(WindowProtocol.Rolling, 8, 8)]
    [InlineData(WindowProtocol.Rolling, 3, 3)]
    public void Documents_are_scored_each_on_its_own(WindowProtocol protocol, int context, int stride)
    {
        int[] lengths = [20, 1, 2, 9, 31];
        var starts = new List<long>();
        var expected = new List<(long, long, int, int)>();
        int at = 0;
        foreach (int n in lengths)
        {
            starts.Add(at);
            if (n >= 2)
            {
                expected.AddRange(protocol switch
                {
                    WindowProtocol.Rolling => HarnessLoop(n, context, at),
                    WindowProtocol.Chunks => LlamaCppLoop(n, context, at),
                    _ => GuideLoop(n, context, stride, at),
                });
            }

            at += n;
        }

        var windows = protocol switch
        {
            WindowProtocol.Rolling => ModelWindows.Rolling(at, context, starts),
            WindowProtocol.Chunks => ModelWindows.Chunks(at, context, starts),
            _ => ModelWindows.Sliding(at, context, stride, starts),
        };
        AssertRows(expected, windows);
        Assert.Equal(lengths.Length, windows.Documents);
        for (int k = 0; k < windows.Count; k++)
        {
            int document = starts.FindLastIndex(s => s <= windows.Begin(k));
            long documentEnd = document + 1 < starts.Count ? starts[document + 1] : at;
            Assert.True(windows.End(k) <= documentEnd, $"window {k} crosses from document {document} into the next");
        }
    }

    [Fact]
    public void Bad_windows_name_the_argument()
    {
        Assert.Equal("tokens", Assert.Throws<ArgumentOutOfRangeException>(() => ModelWindows.Sliding(1, 4, 2)).ParamName);
        Assert.Equal("tokens", Assert.Throws<ArgumentOutOfRangeException>(() => ModelWindows.Rolling(1, 4)).ParamName);
        Assert.Equal("tokens", Assert.Throws<ArgumentOutOfRangeException>(() => ModelWindows.Rolling(3, 4, [0, 1, 2])).ParamName);
        Assert.Equal("context", Assert.Throws<ArgumentOutOfRangeException>(() => ModelWindows.Sliding(10, 1, 1)).ParamName);
        Assert.Equal("context", Assert.Throws<ArgumentOutOfRangeException>(() => ModelWindows.Rolling(10, 1)).ParamName);
        Assert.Equal("context", Assert.Throws<ArgumentOutOfRangeException>(() => ModelWindows.Chunks(10, 3)).ParamName);
        Assert.Equal("tokens", Assert.Throws<ArgumentOutOfRangeException>(() => ModelWindows.Chunks(15, 16)).ParamName);
        Assert.Equal("stride", Assert.Throws<ArgumentOutOfRangeException>(() => ModelWindows.Sliding(10, 4, 5)).ParamName);
        Assert.Equal("stride", Assert.Throws<ArgumentOutOfRangeException>(() => ModelWindows.Sliding(10, 4, 0)).ParamName);
        Assert.Equal("documentStarts", Assert.Throws<ArgumentException>(() => ModelWindows.Sliding(10, 4, 2, [1, 5])).ParamName);
        Assert.Equal("documentStarts", Assert.Throws<ArgumentException>(() => ModelWindows.Sliding(10, 4, 2, [0, 5, 5])).ParamName);
        Assert.Equal("documentStarts", Assert.Throws<ArgumentException>(() => ModelWindows.Rolling(10, 4, [0, 11])).ParamName);
    }
    /// <summary>
    /// lm-evaluation-harness's <c>_loglikelihood_tokens</c> over a request of n tokens whose last m are the continuation:
    /// inp = (context_enc + continuation_enc)[-(max_length + 1):][:-1], and the last m logits score the continuation.
    /// </summary>
    private static List<(long Token, long Begin, int Length, int Position)> RequestLoop(int n, int m, int maxLength, int offset)
    {
        var all = Enumerable.Range(offset, n).ToList();
        var input = all.Skip(Math.Max(0, all.Count - (maxLength + 1))).ToList();
        input.RemoveAt(input.Count - 1);
        var continuation = all.Skip(n - m).ToList();
        var scored = new List<(long, long, int, int)>();
        for (int j = 0; j < m; j++)
        {
            scored.Add((continuation[j], input[0], input.Count, input.Count - m + j));
        }

        return scored;
    }

    [Fact]
    public void Continuation_rows_are_lm_evaluation_harness_request_tokens_in_order()
    {
        int seed = Random.Shared.Next();
        var random = new Random(seed);
        for (int round = 0; round < 20; round++)
        {
            int context = random.Next(2, 40);
            var starts = new List<long>();
            var continuations = new List<int>();
            var expected = new List<(long, long, int, int)>();
            int at = 0;
            for (int d = random.Next(1, 12); d > 0; d--)
            {
                int n = random.Next(2, 90);
                int m = random.Next(1, Math.Min(n - 1, context) + 1);
                starts.Add(at);
                continuations.Add(m);
                expected.AddRange(RequestLoop(n, m, context, at));
                at += n;
            }

            var windows = ModelWindows.Continuations(at, context, starts, continuations);
            AssertRows(expected, windows);
            Assert.True(windows.Count == starts.Count, $"seed {seed}: one window per request");
            for (int d = 0; d < starts.Count; d++)
            {
                Assert.Equal(continuations[d], windows.DocumentRows(d));
            }
        }
    }

    [Fact]
    public void A_continuation_the_window_cannot_score_is_refused()
    {
        Assert.Equal("continuations", Assert.Throws<ArgumentException>(() => ModelWindows.Continuations(10, 4, [0, 5], [1])).ParamName);
        Assert.Contains("at least one token", Assert.Throws<ArgumentException>(() => ModelWindows.Continuations(10, 4, [0, 5], [1, 0])).Message, StringComparison.Ordinal);
        Assert.Contains("context of at least one", Assert.Throws<ArgumentException>(() => ModelWindows.Continuations(10, 8, [0, 5], [5, 1])).Message, StringComparison.Ordinal);
        Assert.Contains("more than the context window of 4", Assert.Throws<ArgumentException>(() => ModelWindows.Continuations(10, 4, null, [5])).Message, StringComparison.Ordinal);
        var full = ModelWindows.Continuations(10, 4, null, [4]);
        Assert.Equal((5L, 4), (full.Begin(0), full.Length(0))); // inputs 5 … 8: (tokens)[-(4 + 1):][:-1]
    }
}
