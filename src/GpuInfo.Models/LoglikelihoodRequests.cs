using System.Runtime.ExceptionServices;
using GpuInfo.Formats;

namespace GpuInfo.Models;

/// <summary>One of lm-evaluation-harness's <c>loglikelihood</c> requests: how likely a model finds <see cref="Continuation"/> after <see cref="Context"/>.</summary>
/// <param name="Name">What reports and errors call it (its file and line or row).</param>
public readonly record struct LoglikelihoodRequest(string Name, string Context, string Continuation)
{
    /// <summary>
    /// LAMBADA's request of a passage, as lm-evaluation-harness's <c>lambada_openai</c> and <c>lambada_standard</c>
    /// tasks make it (<c>doc_to_text</c>: <c>text.split(' ')[:-1]|join(' ')</c>; <c>doc_to_target</c>:
    /// <c>' ' + text.split(' ')[-1]</c>): the passage up to its last space, and its last word after a space.
    /// </summary>
    public static LoglikelihoodRequest LastWord(string name, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int space = text.LastIndexOf(' ');
        return space < 0 ? new(name, "", " " + text) : new(name, text[..space], " " + text[(space + 1)..]);
    }
}

/// <summary>
/// lm-evaluation-harness's <c>loglikelihood</c> requests tokenized as its Hugging Face model (<c>HFLM</c>) tokenizes
/// them for a causal LM, as one text of documents, one per request, each its context's tokens and then its
/// continuation's (<see cref="TokenizedText.Continuations"/>), scored with <see cref="WindowProtocol.Continuation"/>.
/// </summary>
/// <remarks>
/// <para>As <c>TemplateLM._encode_pair</c>: white space at the end of the context goes to the start of the
/// continuation; the context and the context followed by the continuation are each encoded as the tokenizer
/// encodes a text (with the tokens it adds: Llama's BOS, as <c>tok_encode</c>'s <c>add_special_tokens</c>
/// default), and the continuation's tokens are those of the whole past the context's length (so a token that
/// spans the boundary is the continuation's, and the inputs are the context's own tokens then those).</para>
/// <para>As <c>TemplateLM.loglikelihood</c> for an empty context: the continuation encoded without the tokens the
/// tokenizer adds, after the prefix token (lm-evaluation-harness's <c>prefix_token_id</c>: BOS, else EOS), or
/// where the continuation begins with that token, its first token as the context.</para>
/// <para>As <c>HFLM.tok_encode</c>: a context that begins with the prefix token's own text (<c>"&lt;s&gt;"</c>,
/// <c>"&lt;|begin_of_text|&gt;"</c>: a chat template's rendering) is encoded, and the whole with it, without the tokens the
/// tokenizer adds, so that the BOS it holds is not doubled.</para>
/// </remarks>
public static class LoglikelihoodRequests
{
    /// <summary>The requests as one text, document d being request d.</summary>
    /// <param name="prefixToken">The token an empty context stands as (lm-evaluation-harness's <c>prefix_token_id</c>); null refuses such a request.</param>
    /// <param name="name">What errors call the requests together (their file).</param>
    /// <param name="another">
    /// Makes an equal tokenizer for another worker (loads it again), so that requests are encoded on several cores, as
    /// <see cref="DocumentEncoder"/> encodes documents; null encodes on the calling thread alone, unless the tokenizer
    /// <see cref="TextTokenizer.SharesAcrossThreads"/>.
    /// </param>
    /// <param name="threads">Workers at most (default: the cores the process may use, at most <see cref="DocumentEncoder.DefaultMaxThreads"/>).</param>
    /// <exception cref="InvalidFileException">No requests, an empty context without a prefix token, or a continuation of no tokens (lm-evaluation-harness asserts one), each naming the request (the first such, in order).</exception>
    public static TokenizedText Encode(TextTokenizer tokenizer, IEnumerable<LoglikelihoodRequest> requests, int? prefixToken, string name, Func<TextTokenizer>? another = null, int? threads = null) =>
        EncodeRequests(tokenizer, requests, prefixToken, name, another, threads, DocumentEncoder.ParallelChars);

    /// <summary><see cref="Encode"/>, on several workers only from <paramref name="parallelChars"/> characters to encode (tests take fewer).</summary>
    internal static TokenizedText EncodeRequests(TextTokenizer tokenizer, IEnumerable<LoglikelihoodRequest> requests, int? prefixToken, string name, Func<TextTokenizer>? another, int? threads, long parallelChars)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(name);
        if (prefixToken < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(prefixToken), prefixToken, "a token id is 0 or more.");
        }

        if (threads is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "must be 1 or more.");
        }

        var list = requests.ToList();
        if (list.Count == 0)
        {
            throw new InvalidFileException(name, "holds no requests.");
        }

        var split = SplitAll(tokenizer, list, prefixToken, another, threads ?? Math.Min(Environment.ProcessorCount, DocumentEncoder.DefaultMaxThreads), parallelChars);
        var ids = new int[split.Sum(s => (long)s.Context.Length + s.Continuation.Length)];
        var starts = new long[list.Count];
        var continuations = new int[list.Count];
        long at = 0;
        for (int d = 0; d < list.Count; d++)
        {
            var (context, continuation) = split[d];
            starts[d] = at;
            context.CopyTo(ids, at);
            continuation.CopyTo(ids, at + context.Length);
            at += context.Length + continuation.Length;
            continuations[d] = continuation.Length;
        }

        return new TokenizedText(ids, null, name, tokenizer.Name)
        {
            DocumentStarts = starts,
            Continuations = continuations,
        };
    }

    /// <summary>Requests a worker takes at a time.</summary>
    private const int Block = 32;

    /// <summary>
    /// Every request split (<see cref="Split"/>), in order, on several workers where the requests are long enough to pay
    /// for loading their tokenizers (<paramref name="parallelChars"/> characters to encode): each takes blocks of requests
    /// in order, so that when one fails every block before it is still finished, and the first failure in order is thrown.
    /// </summary>
    private static (int[] Context, int[] Continuation)[] SplitAll(TextTokenizer tokenizer, List<LoglikelihoodRequest> requests, int? prefixToken, Func<TextTokenizer>? another, int threads, long parallelChars)
    {
        var result = new (int[], int[])[requests.Count];
        long chars = requests.Sum(r => (2L * (r.Context?.Length ?? 0)) + (r.Continuation?.Length ?? 0));
        int workers = chars < parallelChars || (another is null && !tokenizer.SharesAcrossThreads) ? 1 : Math.Min(threads, (requests.Count + Block - 1) / Block);
        int next = 0, failedAt = int.MaxValue;
        ExceptionDispatchInfo? failure = null;
        var gate = new object();
        void Work(TextTokenizer worker)
        {
            var cache = new ContextCache();
            while (Volatile.Read(ref failedAt) == int.MaxValue)
            {
                int start = Interlocked.Add(ref next, Block) - Block;
                for (int i = start; i < Math.Min(start + Block, requests.Count); i++)
                {
                    try
                    {
                        result[i] = SplitCached(worker, requests[i], prefixToken, cache);
                    }
                    catch (Exception e)
                    {
                        lock (gate)
                        {
                            if (i < failedAt)
                            {
                                failure = ExceptionDispatchInfo.Capture(e);
                                Volatile.Write(ref failedAt, i);
                            }
                        }

                        return;
                    }
                }

                if (start + Block >= requests.Count)
                {
                    return;
                }
            }
        }

        var others = Enumerable.Range(1, workers - 1).Select(_ => Task.Run(() => Work(tokenizer.SharesAcrossThreads ? tokenizer : another!()))).ToArray();
        Work(tokenizer);
        try
        {
            Task.WaitAll(others);
        }
        catch (AggregateException e) when (failure is null)
        {
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw(); // another tokenizer could not be made
        }

        failure?.Throw();
        return result;
    }

    /// <summary>The last context a worker encoded and its ids: a multiple-choice document's requests share their context, encoded once.</summary>
    private sealed class ContextCache
    {
        public string? Context { get; set; }

        public int[] Ids { get; set; } = [];
    }

    /// <summary>
    /// The requests of <paramref name="requests"/> (made by <see cref="Encode"/>) longest window first, as lm-evaluation-harness's
    /// Hugging Face model orders them before batching (its <c>Collator</c>: by minus the length of context + continuation,
    /// ties in their order), each window's length taken at most <paramref name="context"/> + 1 tokens, so that a batch
    /// runs windows of like lengths and pads few positions. <paramref name="order"/>[i] is the request the i-th one was.
    /// </summary>
    public static TokenizedText LongestFirst(TokenizedText requests, int context, out int[] order)
    {
        ArgumentNullException.ThrowIfNull(requests);
        var continuations = requests.Continuations ?? throw new ArgumentException($"{requests.Name} is not a text of loglikelihood requests (Encode makes one).", nameof(requests));
        ArgumentOutOfRangeException.ThrowIfLessThan(context, 1);
        int n = requests.DocumentStarts.Count;
        long Length(int d) => Math.Min((d + 1 < n ? requests.DocumentStarts[d + 1] : requests.Ids.LongLength) - requests.DocumentStarts[d], context + 1L);
        order = [.. Enumerable.Range(0, n).OrderByDescending(Length)]; // OrderBy is stable: ties keep their order
        var ids = new int[requests.Ids.Length];
        var starts = new long[n];
        var lengths = new int[n];
        long at = 0;
        for (int i = 0; i < n; i++)
        {
            var document = requests.Document(order[i]);
            starts[i] = at;
            document.CopyTo(ids.AsSpan((int)at));
            at += document.Length;
            lengths[i] = continuations[order[i]];
        }

        return new TokenizedText(ids, null, requests.Name, requests.Tokenizer)
        {
            DocumentStarts = starts,
            Continuations = lengths,
        };
    }

    /// <summary>
    /// <paramref name="requests"/> (made by <see cref="Encode"/>) in groups of consecutive requests of <paramref name="sizes"/>, each
    /// a document's requests that begin alike (a multiple-choice document's, one per choice), and the groups in sections of
    /// <paramref name="sections"/> groups each (documents that may begin alike: a file of one MMLU subject's questions after the
    /// same examples; null: one section): a model that <see cref="OnnxLanguageModel.ReusesPast"/> runs the tokens each request
    /// shares with its group's first once, and those each group's first shares with its section's first, as llama.cpp evaluates
    /// a task's common prefix once. The scores are the same (to rounding); a shard of whole sections gives a whole run's, and so
    /// does one of whole groups that begins with its section's first request (scored and left out).
    /// </summary>
    /// <exception cref="ArgumentException">Sizes below 1, or not summing to the requests (or the groups).</exception>
    public static TokenizedText Grouped(TokenizedText requests, IEnumerable<int> sizes, IEnumerable<int>? sections = null)
    {
        ArgumentNullException.ThrowIfNull(requests);
        ArgumentNullException.ThrowIfNull(sizes);
        var continuations = requests.Continuations ?? throw new ArgumentException($"{requests.Name} is not a text of loglikelihood requests (Encode makes one).", nameof(requests));
        var starts = new List<int>();
        int at = 0;
        foreach (int size in sizes)
        {
            if (size < 1)
            {
                throw new ArgumentException($"group {starts.Count} has {size} requests; a group has at least one.", nameof(sizes));
            }

            starts.Add(at);
            at += size;
        }

        if (at != continuations.Count)
        {
            throw new ArgumentException($"the groups hold {at} requests; the text has {continuations.Count}.", nameof(sizes));
        }

        var sectionStarts = new List<int>();
        int group = 0;
        foreach (int count in sections ?? [starts.Count])
        {
            if (count < 1)
            {
                throw new ArgumentException($"section {sectionStarts.Count} has {count} groups; a section has at least one.", nameof(sections));
            }

            if (group < starts.Count)
            {
                sectionStarts.Add(starts[group]);
            }

            group += count;
        }

        if (group != starts.Count)
        {
            throw new ArgumentException($"the sections hold {group} groups; there are {starts.Count}.", nameof(sections));
        }

        return new TokenizedText(requests.Ids, requests.Bytes, requests.Words, requests.Name, requests.Tokenizer)
        {
            DocumentStarts = requests.DocumentStarts,
            Continuations = continuations,
            PrefixToken = requests.PrefixToken,
            WordEdges = requests.WordEdges,
            WordsCountEdges = requests.WordsCountEdges,
            RequestGroups = starts,
            RequestSections = sectionStarts,
        };
    }

    /// <summary>A request's context and continuation tokens, as lm-evaluation-harness splits them.</summary>
    /// <exception cref="InvalidFileException">An empty context without a prefix token, or a continuation of no tokens.</exception>
    public static (int[] Context, int[] Continuation) Split(TextTokenizer tokenizer, LoglikelihoodRequest request, int? prefixToken) =>
        SplitCached(tokenizer, request, prefixToken, null);

    private static (int[] Context, int[] Continuation) SplitCached(TextTokenizer tokenizer, LoglikelihoodRequest request, int? prefixToken, ContextCache? cache)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        string context = request.Context ?? throw new ArgumentException("a request's context is null.", nameof(request));
        string continuation = request.Continuation ?? throw new ArgumentException("a request's continuation is null.", nameof(request));
        string name = request.Name ?? "request";
        if (context.Length == 0)
        {
            int[] alone = WithoutAdded(tokenizer, tokenizer.Encode(continuation, name).Ids);
            if (alone.Length == 0)
            {
                throw new InvalidFileException(name, "has an empty context and a continuation of no tokens: nothing to score.");
            }

            if (prefixToken is not { } prefix)
            {
                throw new InvalidFileException(name, $"has an empty context, which lm-evaluation-harness scores after its prefix token (BOS, else EOS), and {tokenizer.Name} has none: give one (--prefix-token).");
            }

            return prefix != alone[0] ? ([prefix], alone) : (alone[..1], alone[1..]);
        }

        int spaces = context.Length - TrimEnd(context).Length;
        if (spaces > 0)
        {
            continuation = context[^spaces..] + continuation;
            context = context[..^spaces];
        }

        bool holdsPrefix = prefixToken is { } id && PrefixText(tokenizer, id) is { Length: > 0 } text && context.StartsWith(text, StringComparison.Ordinal);
        int[] whole = tokenizer.Encode(context + continuation, name).Ids;
        int[] contextIds;
        if (cache is not null && string.Equals(cache.Context, context, StringComparison.Ordinal))
        {
            contextIds = cache.Ids;
        }
        else
        {
            contextIds = tokenizer.Encode(context, name).Ids;
            contextIds = holdsPrefix ? WithoutAdded(tokenizer, contextIds) : contextIds;
            if (cache is not null)
            {
                (cache.Context, cache.Ids) = (context, contextIds);
            }
        }

        if (holdsPrefix)
        {
            whole = WithoutAdded(tokenizer, whole);
        }

        if (whole.Length <= contextIds.Length)
        {
            throw new InvalidFileException(name, $"has a continuation ('{Shorten(request.Continuation)}') that adds no tokens to its context's {contextIds.Length}: nothing to score (lm-evaluation-harness asserts one).");
        }

        return (contextIds, whole[contextIds.Length..]);
    }

    /// <summary>The prefix token's text, as <c>tokenizer.decode(prefix_token_id)</c> gives it; null where the tokenizer decodes it to nothing.</summary>
    private static string? PrefixText(TextTokenizer tokenizer, int prefix)
    {
        try
        {
            return tokenizer.Tokenizer.Decode([prefix]);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or KeyNotFoundException)
        {
            return null; // an id the tokenizer cannot decode: no text can begin with it
        }
    }

    /// <summary>Python's <c>str.rstrip()</c>: the text without the white space (<see cref="TokenBytes.IsSpace"/>) at its end.</summary>
    private static string TrimEnd(string text)
    {
        int end = text.Length;
        while (end > 0 && TokenBytes.IsSpace(text[end - 1]))
        {
            end--;
        }

        return text[..end];
    }

    /// <summary>Ids as <c>tokenizer.encode(text, add_special_tokens=False)</c> gives them: without the tokens the tokenizer adds.</summary>
    private static int[] WithoutAdded(TextTokenizer tokenizer, int[] ids)
    {
        int before = tokenizer.AddedBefore.Count, after = tokenizer.AddedAfter.Count;
        if (before == 0 && tokenizer.BeginsEachText is { } bos && ids.Length > 0 && ids[0] == bos)
        {
            before = 1; // a SentencePiece model's own BOS
        }

        return ids.Length >= before + after ? ids[before..^after] : [];
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..37] + "...";
}
