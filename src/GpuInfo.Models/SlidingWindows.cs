namespace GpuInfo.Models;

/// <summary>
/// The sliding-window protocol of the Hugging Face perplexity guide over a text of n tokens: window
/// k covers tokens [k·stride, min(k·stride + context, n)); the windows stop at the first that reaches
/// the end. Window k scores the tokens from the previous window's end to its own (the first window
/// all its tokens but the first, which nothing predicts), so each token is scored once with at least
/// context − stride tokens of left context where the text has them. When stride equals context the
/// windows are disjoint and, as in the guide, the first token of each window is not scored.
/// </summary>
/// <remarks>
/// Scored tokens are numbered in text order as rows: row r is predicted by the logits at one
/// position of one window (<see cref="Locate"/>), and its target is token <see cref="TokenOfRow"/>.
/// </remarks>
public sealed class SlidingWindows
{
    private readonly long[] _rowStart;

    /// <exception cref="ArgumentOutOfRangeException">Fewer than 2 tokens, context below 2, or stride not in [1, context].</exception>
    public SlidingWindows(long tokens, int context, int stride)
    {
        if (tokens < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(tokens), tokens, "a text needs at least 2 tokens to score one.");
        }

        if (context < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(context), context, "a window needs at least 2 tokens.");
        }

        if (stride < 1 || stride > context)
        {
            throw new ArgumentOutOfRangeException(nameof(stride), stride, $"the stride must be from 1 to the context ({context}); a larger one would skip tokens.");
        }

        Tokens = tokens;
        Context = context;
        Stride = stride;
        long count = tokens <= context ? 1 : ((tokens - context + stride - 1) / stride) + 1;
        _rowStart = new long[count + 1];
        for (int k = 0; k < count; k++)
        {
            _rowStart[k + 1] = _rowStart[k] + (End(k) - FirstScored(k));
        }
    }

    public long Tokens { get; }

    public int Context { get; }

    public int Stride { get; }

    public int Count => _rowStart.Length - 1;

    /// <summary>Scored tokens over all windows.</summary>
    public long Rows => _rowStart[^1];

    /// <summary>Tokens no window scores: the first (nothing predicts it) and, when stride equals context, every later window's first; <see cref="Rows"/> + this = <see cref="Tokens"/>.</summary>
    public long Unscored => Tokens - Rows;

    /// <summary>The first token of window <paramref name="k"/>.</summary>
    public long Begin(int k) => (long)k * Stride;

    /// <summary>One past the last token of window <paramref name="k"/>.</summary>
    public long End(int k) => Math.Min(Begin(k) + Context, Tokens);

    public int Length(int k) => (int)(End(k) - Begin(k));

    /// <summary>The first token window <paramref name="k"/> scores: the previous window's end, and never the window's own first token.</summary>
    public long FirstScored(int k) => Math.Max(k == 0 ? 0 : End(k - 1), Begin(k) + 1);

    /// <summary>The first row (scored token, in text order) of window <paramref name="k"/>.</summary>
    public long FirstRow(int k) => _rowStart[k];

    /// <summary>The rows window <paramref name="k"/> scores.</summary>
    public int RowsOf(int k) => (int)(_rowStart[k + 1] - _rowStart[k]);

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

        long token = FirstScored(k) + (row - _rowStart[k]);
        return (k, (int)(token - 1 - Begin(k)));
    }

    /// <summary>The token row <paramref name="row"/> scores (its target).</summary>
    public long TokenOfRow(long row)
    {
        var (k, position) = Locate(row);
        return Begin(k) + position + 1;
    }
}
