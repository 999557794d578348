namespace GpuInfo.Models;

/// <summary>How a text is cut into the windows a model sees (<see cref="ModelWindows"/>).</summary>
public enum WindowProtocol
{
    /// <summary>The Hugging Face perplexity guide: windows of the context every stride tokens, each scoring the tokens the previous one did not reach.</summary>
    Sliding,

    /// <summary>lm-evaluation-harness's <c>loglikelihood_rolling</c>: disjoint runs of scored tokens, each window a full context where the document has one.</summary>
    Rolling,

    /// <summary>llama.cpp's <c>llama-perplexity</c>: disjoint chunks of the context (the tokens after the last whole chunk unscored), each scoring the tokens of its second half but the first, from a first input token replaced by the prefix token where there is one.</summary>
    Chunks,

    /// <summary>lm-evaluation-harness's <c>loglikelihood</c> requests: each document a context and a continuation, one window scoring the continuation's tokens (<see cref="TokenizedText.Continuations"/>).</summary>
    Continuation,
}

/// <summary>
/// The windows a causal LM runs over a sequence of token ids made of one or more documents, each
/// scored on its own (no window crosses a document's edge), and which of each window's positions
/// are scored. Position p of a window predicts the token after it, so a window of L tokens starting
/// at b can score tokens b + 1 … b + L; a document's first token is never scored (nothing before it
/// in the document predicts it: it is the prefix token where one was put before each document).
/// </summary>
/// <remarks>
/// <para><see cref="WindowProtocol.Sliding"/>, over a document of n tokens: window k covers tokens
/// [k·stride, min(k·stride + context, n)); the windows stop at the first that reaches the end; each
/// scores the tokens from the previous window's end to its own, never its own first token. When
/// stride equals context the windows are disjoint and, as in the guide, each one's first token goes
/// unscored.</para>
/// <para><see cref="WindowProtocol.Rolling"/>, as lm-evaluation-harness's
/// <c>get_rolling_token_windows(tokens[1:], prefix_token=tokens[0], max_seq_len=context, context_len=1)</c>
/// with <c>make_disjoint_window</c>: the first window is the document's first min(context, n − 1)
/// tokens, scoring all their next tokens; each later one scores the next min(context, left) tokens
/// and ends just before the last of them, starting context tokens earlier (so the last window, too,
/// has a full context). Every token but the document's first is scored.</para>
/// <para><see cref="WindowProtocol.Chunks"/>, as llama.cpp's <c>llama-perplexity</c> (its default,
/// without <c>--ppl-stride</c>): the document is cut into ⌊n / context⌋ chunks of context tokens, the
/// tokens after the last left out, and chunk c scores its tokens context/2 + 1 … context − 1 (integer
/// division), from the logits at positions context/2 … context − 2. llama.cpp puts its BOS token in
/// place of each chunk's first token where its vocabulary adds one: <see cref="ModelRowSource"/> does
/// so with the text's prefix token, which is never a target here (see <see cref="FirstInputReplaced"/>).</para>
/// <para><see cref="WindowProtocol.Continuation"/>, as lm-evaluation-harness's <c>_loglikelihood_tokens</c>
/// over a causal LM: document d is a request's context and then its m_d continuation tokens, and its one
/// window is the model input <c>(context + continuation)[-(context_window + 1):][:-1]</c>, the document's
/// last min(n − 1, context_window) tokens before its last one (a context too long cut from the left),
/// scoring the m_d continuation tokens.</para>
/// <para>Scored tokens are numbered in sequence order as rows: row r is predicted by the logits at
/// one position of one window (<see cref="Locate"/>), and its target is token <see cref="TokenOfRow"/>.</para>
/// </remarks>
public sealed class ModelWindows
{
    private readonly long[] _begin;
    private readonly int[] _length;
    private readonly long[] _firstTarget;
    private readonly long[] _rowStart;

    private readonly int[] _documentFirstWindow;

    /// <param name="documentFirstWindow">Each document's first window (the count of windows before it).</param>
    private ModelWindows(WindowProtocol protocol, long tokens, int[] documentFirstWindow, int context, int stride, List<(long Begin, int Length, long FirstTarget, int Targets)> windows)
    {
        Protocol = protocol;
        Tokens = tokens;
        Documents = documentFirstWindow.Length;
        _documentFirstWindow = documentFirstWindow;
        Context = context;
        Stride = stride;
        _begin = new long[windows.Count];
        _length = new int[windows.Count];
        _firstTarget = new long[windows.Count];
        _rowStart = new long[windows.Count + 1];
        for (int k = 0; k < windows.Count; k++)
        {
            (_begin[k], _length[k], _firstTarget[k], int targets) = windows[k];
            _rowStart[k + 1] = _rowStart[k] + targets;
        }

        MaxLength = windows.Count == 0 ? 0 : _length.Max();
    }

    /// <summary>The Hugging Face guide's windows over each document (<see cref="WindowProtocol.Sliding"/>).</summary>
    /// <param name="documentStarts">Where each document begins in the sequence: 0 first, then increasing; null for one document.</param>
    /// <exception cref="ArgumentOutOfRangeException">Context below 2, stride not in [1, context], or nothing to score (every document of one token).</exception>
    /// <exception cref="ArgumentException">Document starts that are not 0 first and then increasing within the sequence.</exception>
    public static ModelWindows Sliding(long tokens, int context, int stride, IReadOnlyList<long>? documentStarts = null)
    {
        CheckContext(context, 2);
        if (stride < 1 || stride > context)
        {
            throw new ArgumentOutOfRangeException(nameof(stride), stride, $"the stride must be from 1 to the context ({context}); a larger one would skip tokens.");
        }

        static IEnumerable<(long, int, long, int)> Document(long s, long n, int context, int stride)
        {
            long previousEnd = s;
            for (long begin = s; n >= 2; begin += stride)
            {
                long end = Math.Min(begin + context, s + n);
                long first = Math.Max(previousEnd, begin + 1);
                yield return (begin, (int)(end - begin), first, (int)(end - first));
                previousEnd = end;
                if (end == s + n)
                {
                    yield break;
                }
            }
        }

        return Build(WindowProtocol.Sliding, tokens, context, stride, documentStarts, (s, n) => Document(s, n, context, stride),
            "a document needs at least 2 tokens (the first has nothing before it to predict it)");
    }

    /// <summary>lm-evaluation-harness's rolling windows over each document (<see cref="WindowProtocol.Rolling"/>), its first token taken as the prefix.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Context below 2, or nothing to score (every document of one token).</exception>
    /// <exception cref="ArgumentException">Document starts that are not 0 first and then increasing within the sequence.</exception>
    public static ModelWindows Rolling(long tokens, int context, IReadOnlyList<long>? documentStarts = null)
    {
        CheckContext(context, 2);

        static IEnumerable<(long, int, long, int)> Document(long s, long n, int context)
        {
            long predict = n - 1; // tokens s + 1 … s + n − 1
            if (predict < 1)
            {
                yield break;
            }

            int first = (int)Math.Min(context, predict);
            yield return (s, first, s + 1, first);
            for (long predicted = first; predicted < predict;)
            {
                int length = (int)Math.Min(predict - predicted, context);
                long windowEnd = predicted + length; // in tokens after the prefix
                yield return (s + windowEnd - context, context, s + 1 + predicted, length);
                predicted = windowEnd;
            }
        }

        return Build(WindowProtocol.Rolling, tokens, context, context, documentStarts, (s, n) => Document(s, n, context),
            "a document needs at least 2 tokens (the first has nothing before it to predict it)");
    }

    /// <summary>llama.cpp's chunks of each document (<see cref="WindowProtocol.Chunks"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Context below 4, or nothing to score (no document as long as the context).</exception>
    /// <exception cref="ArgumentException">Document starts that are not 0 first and then increasing within the sequence.</exception>
    public static ModelWindows Chunks(long tokens, int context, IReadOnlyList<long>? documentStarts = null)
    {
        CheckContext(context, 4, "a chunk needs at least 4 tokens to score one of its second half.");

        static IEnumerable<(long, int, long, int)> Document(long s, long n, int context)
        {
            int first = context / 2;
            for (long begin = s; begin + context <= s + n; begin += context)
            {
                yield return (begin, context, begin + first + 1, context - first - 1);
            }
        }

        return Build(WindowProtocol.Chunks, tokens, context, context, documentStarts, (s, n) => Document(s, n, context),
            $"no document has a whole chunk of {context} tokens (llama.cpp's chunks leave out the tokens after the last whole one)");
    }

    /// <summary>lm-evaluation-harness's loglikelihood windows (<see cref="WindowProtocol.Continuation"/>): each document's last <paramref name="continuations"/>[d] tokens scored from one window.</summary>
    /// <param name="continuations">Each document's continuation tokens, at its end: at least 1, fewer than its tokens (its context has one or more) and at most <paramref name="context"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">Context below 2.</exception>
    /// <exception cref="ArgumentException">Not one continuation per document, or a continuation of no tokens, of the whole document, or longer than the context (lm-evaluation-harness asserts each).</exception>
    public static ModelWindows Continuations(long tokens, int context, IReadOnlyList<long>? documentStarts, IReadOnlyList<int> continuations)
    {
        CheckContext(context, 2);
        ArgumentNullException.ThrowIfNull(continuations);
        int documents = documentStarts?.Count ?? 1;
        if (continuations.Count != documents)
        {
            throw new ArgumentException($"expected {documents} continuation lengths (one per document), got {continuations.Count}.", nameof(continuations));
        }

        IEnumerable<(long, int, long, int)> Document(int d, long s, long n)
        {
            int m = continuations[d];
            if (m < 1 || m >= n)
            {
                throw new ArgumentException($"document {d} has {n} tokens and a continuation of {m}: a request needs a continuation of at least one token and a context of at least one.", nameof(continuations));
            }

            if (m > context)
            {
                throw new ArgumentException($"document {d}'s continuation has {m} tokens, more than the context window of {context} can score.", nameof(continuations));
            }

            int length = (int)Math.Min(n - 1, context);
            return [(s + n - 1 - length, length, s + n - m, m)];
        }

        return Build(WindowProtocol.Continuation, tokens, context, context, documentStarts, Document, "no request");
    }

    public WindowProtocol Protocol { get; }

    /// <summary>Whether each window's first input token is replaced by the text's prefix token where it has one (<see cref="WindowProtocol.Chunks"/>, as llama.cpp puts its BOS there).</summary>
    public bool FirstInputReplaced => Protocol == WindowProtocol.Chunks;

    /// <summary>Tokens in the sequence, every document's together.</summary>
    public long Tokens { get; }

    public int Documents { get; }

    public int Context { get; }

    /// <summary>Tokens between window starts (<see cref="WindowProtocol.Sliding"/>; the context for <see cref="WindowProtocol.Rolling"/>).</summary>
    public int Stride { get; }

    public int Count => _begin.Length;

    /// <summary>The longest window.</summary>
    public int MaxLength { get; }

    /// <summary>Scored tokens over all windows.</summary>
    public long Rows => _rowStart[^1];

    /// <summary>Tokens no window scores: each document's first (nothing predicts it); for sliding windows whose stride equals the context, every later window's first; for chunks, each one's first half and more, and the tokens after the last; <see cref="Rows"/> + this = <see cref="Tokens"/>.</summary>
    public long Unscored => Tokens - Rows;

    /// <summary>The first token of window <paramref name="k"/>.</summary>
    public long Begin(int k) => _begin[Window(k)];

    /// <summary>One past the last token of window <paramref name="k"/>.</summary>
    public long End(int k) => _begin[Window(k)] + _length[k];

    public int Length(int k) => _length[Window(k)];

    /// <summary>The position of window <paramref name="k"/> whose logits predict its first scored token (its length where it scores none).</summary>
    public int FirstScoredPosition(int k) => RowsOf(k) == 0 ? _length[k] : (int)(_firstTarget[k] - 1 - _begin[k]);

    /// <summary>The first row (scored token, in sequence order) of window <paramref name="k"/>.</summary>
    public long FirstRow(int k) => _rowStart[Window(k)];

    /// <summary>The rows window <paramref name="k"/> scores.</summary>
    public int RowsOf(int k) => (int)(_rowStart[Window(k) + 1] - _rowStart[k]);

    /// <summary>The first row (scored token) of document <paramref name="document"/>.</summary>
    public long DocumentFirstRow(int document) => _rowStart[_documentFirstWindow[Document(document)]];

    /// <summary>The rows document <paramref name="document"/> has scored (0 where no window scores any of its tokens).</summary>
    public long DocumentRows(int document) => (Document(document) + 1 < Documents ? DocumentFirstRow(document + 1) : Rows) - DocumentFirstRow(document);

    private int Window(int k) => k >= 0 && k < _length.Length ? k
        : throw new ArgumentOutOfRangeException(nameof(k), k, $"not one of the {_length.Length} windows.");

    private int Document(int document) => document >= 0 && document < Documents ? document
        : throw new ArgumentOutOfRangeException(nameof(document), document, $"not one of the {Documents} documents.");

    /// <summary>The document whose token <paramref name="row"/> scores.</summary>
    public int DocumentOfRow(long row)
    {
        var (k, _) = Locate(row);
        int d = Array.BinarySearch(_documentFirstWindow, k);
        d = d >= 0 ? d : ~d - 1;
        while (d + 1 < Documents && _documentFirstWindow[d + 1] <= k)
        {
            d++; // documents without windows share their first window index with the next
        }

        return d;
    }

    /// <summary>The window that scores <paramref name="row"/>, and the position in it whose logits predict the row's token.</summary>
    public (int Window, int Position) Locate(long row)
    {
        if (row < 0 || row >= Rows)
        {
            throw new ArgumentOutOfRangeException(nameof(row), row, $"rows run from 0 to {Rows - 1}.");
        }

        int k = Array.BinarySearch(_rowStart, row);
        k = k >= 0 ? k : ~k - 1;
        while (RowsOf(k) == 0)
        {
            k++;
        }

        long token = _firstTarget[k] + (row - _rowStart[k]);
        return (k, (int)(token - 1 - _begin[k]));
    }

    /// <summary>The token row <paramref name="row"/> scores (its target).</summary>
    public long TokenOfRow(long row)
    {
        var (k, position) = Locate(row);
        return _begin[k] + position + 1;
    }

    private static void CheckContext(int context, int least, string why = "a window needs at least 2 tokens.")
    {
        if (context < least)
        {
            throw new ArgumentOutOfRangeException(nameof(context), context, why);
        }
    }

    /// <summary>Every document's windows (begin, length, first target, targets), in order, as one plan; one that scores nothing is refused, saying <paramref name="nothing"/>.</summary>
    private static ModelWindows Build(WindowProtocol protocol, long tokens, int context, int stride, IReadOnlyList<long>? documentStarts,
        Func<long, long, IEnumerable<(long, int, long, int)>> document, string nothing) =>
        Build(protocol, tokens, context, stride, documentStarts, (_, s, n) => document(s, n), nothing);

    /// <summary>As the other, <paramref name="document"/> told each document's index too.</summary>
    private static ModelWindows Build(WindowProtocol protocol, long tokens, int context, int stride, IReadOnlyList<long>? documentStarts,
        Func<int, long, long, IEnumerable<(long, int, long, int)>> document, string nothing)
    {
        var windows = new List<(long, int, long, int)>();
        var firstWindow = new List<int>();
        foreach (var (s, n) in Spans(tokens, documentStarts))
        {
            int d = firstWindow.Count;
            firstWindow.Add(windows.Count);
            windows.AddRange(document(d, s, n));
        }

        var plan = new ModelWindows(protocol, tokens, [.. firstWindow], context, stride, windows);
        return plan.Rows > 0 ? plan : throw new ArgumentOutOfRangeException(nameof(tokens), tokens, $"nothing to score: {nothing}.");
    }

    /// <summary>Each document's (start, tokens).</summary>
    private static IEnumerable<(long Start, long Tokens)> Spans(long tokens, IReadOnlyList<long>? starts)
    {
        if (tokens < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(tokens), tokens, "a sequence cannot have a negative length.");
        }

        if (starts is null)
        {
            return [(0, tokens)];
        }

        if (starts.Count == 0 || starts[0] != 0)
        {
            throw new ArgumentException("the first document starts at token 0.", "documentStarts");
        }

        var spans = new List<(long, long)>(starts.Count);
        for (int d = 0; d < starts.Count; d++)
        {
            long end = d + 1 < starts.Count ? starts[d + 1] : tokens;
            if (end <= starts[d] || end > tokens)
            {
                throw new ArgumentException($"document {d} starts at token {starts[d]} and the next at {end} (of {tokens}): starts must increase within the sequence.", "documentStarts");
            }

            spans.Add((starts[d], end - starts[d]));
        }

        return spans;
    }
}
