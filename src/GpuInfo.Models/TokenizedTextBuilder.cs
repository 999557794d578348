namespace GpuInfo.Models;

/// <summary>
/// Documents added one at a time into one text (<see cref="TokenizedText.Join"/>), each copied into blocks as it
/// comes, so a corpus's documents need not all be held until joined. <see cref="Build"/> gathers the blocks into
/// the text's arrays one array at a time, letting each array's blocks go once copied: the peak is the blocks and
/// one array (4 of 12 bytes a token more than the text), where holding every document until joined took twice the text.
/// </summary>
public sealed class TokenizedTextBuilder
{
    /// <summary>Values in a block at most (4 MiB); the first blocks are smaller, for small texts.</summary>
    internal const int MaxBlock = 1 << 20;

    private const int MinBlock = 1 << 12;

    /// <summary>Values (64 MiB an array) from which each array's blocks are collected once gathered.</summary>
    private const long CollectAfter = 1 << 24;

    private readonly int? _prefixToken;
    private readonly List<long> _starts = [];
    private List<int[]>? _bytes = [], _words = [];
    private readonly List<int[]> _ids = [];
    private long _count;
    private int _blockUsed;
    private string? _tokenizer;

    /// <param name="prefixToken">Put before each document that does not begin with it (as <see cref="TokenizedText.Join"/>), or null.</param>
    /// <exception cref="ArgumentException">A negative prefix token.</exception>
    public TokenizedTextBuilder(int? prefixToken)
    {
        if (prefixToken < 0)
        {
            throw new ArgumentException($"the prefix token {prefixToken} is not a vocabulary index.", nameof(prefixToken));
        }

        _prefixToken = prefixToken;
    }

    /// <summary>Documents added so far (a text of several counts each).</summary>
    public int Documents => _starts.Count;

    /// <summary>Ids added so far, prefix tokens included.</summary>
    public long Count => _count;

    /// <summary>Adds each document of <paramref name="text"/> (one, or a joined text's or tokenized corpus's several).</summary>
    /// <exception cref="ArgumentException">A document of no tokens, a text joined with another prefix token, or more ids than one array holds; the builder is then as before the call.</exception>
    public void Add(TokenizedText text) => Add(text, nameof(text));

    /// <param name="parameter">The name errors give the text by (<see cref="TokenizedText.Join"/>'s documents).</param>
    internal void Add(TokenizedText text, string parameter)
    {
        ArgumentNullException.ThrowIfNull(text, parameter);
        if (text.PrefixToken is not null && text.PrefixToken != _prefixToken)
        {
            throw new ArgumentException($"{text.Name} was joined with the prefix token {text.PrefixToken}, not {(_prefixToken is null ? "none" : _prefixToken)}.", parameter);
        }

        long total = _count;
        for (int k = 0; k < text.DocumentStarts.Count; k++)
        {
            var document = text.Document(k);
            if (document.IsEmpty)
            {
                throw new ArgumentException($"document {_starts.Count + k} ({text.Name}{(text.DocumentStarts.Count > 1 ? $", its document {k}" : "")}) has no tokens.", parameter);
            }

            total += document.Length + (Prefixed(document) ? 1 : 0);
        }

        if (total > Array.MaxLength)
        {
            throw new ArgumentException($"{total} tokens in all; at most {Array.MaxLength} can be held.", parameter);
        }

        _tokenizer ??= text.Tokenizer;
        if (text.Bytes is null)
        {
            _bytes = null;
        }

        if (text.Words is null)
        {
            _words = null;
        }

        for (int k = 0; k < text.DocumentStarts.Count; k++)
        {
            _starts.Add(_count);
            var document = text.Document(k);
            int from = (int)text.DocumentStarts[k];
            if (Prefixed(document))
            {
                AppendPrefix();
            }

            for (int done = 0; done < document.Length;)
            {
                int n = Math.Min(document.Length - done, Room());
                Copy(_ids, document.Slice(done, n));
                if (_bytes is not null)
                {
                    Copy(_bytes, text.Bytes.AsSpan(from + done, n));
                }

                if (_words is not null)
                {
                    Copy(_words, text.Words.AsSpan(from + done, n));
                }

                _blockUsed += n;
                _count += n;
                done += n;
            }
        }
    }

    /// <summary>The documents added, as one text named <paramref name="name"/>; the builder is empty afterwards.</summary>
    /// <exception cref="InvalidOperationException">No documents were added.</exception>
    public TokenizedText Build(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (_starts.Count == 0)
        {
            throw new InvalidOperationException("no documents were added.");
        }

        // One array at a time, each array's blocks let go as it is gathered.
        var ids = Gather(_ids)!;
        var bytes = Gather(_bytes);
        var words = Gather(_words);
        var text = new TokenizedText(ids, bytes, words, name, _tokenizer!) { DocumentStarts = [.. _starts], PrefixToken = _prefixToken };
        (_bytes, _words, _count, _blockUsed, _tokenizer) = ([], [], 0, 0, null);
        _starts.Clear();
        return text;
    }

    private bool Prefixed(ReadOnlySpan<int> document) => _prefixToken is { } token && document[0] != token;

    /// <summary>The prefix token: its bytes and words are 0, as a new block's are.</summary>
    private void AppendPrefix()
    {
        Room();
        _ids[^1][_blockUsed] = _prefixToken!.Value;
        _blockUsed++;
        _count++;
    }

    /// <summary>Values the last block has room for, starting a new block (in each kept array) where it has none.</summary>
    private int Room()
    {
        if (_ids.Count > 0 && _blockUsed < _ids[^1].Length)
        {
            return _ids[^1].Length - _blockUsed;
        }

        int length = (int)Math.Clamp(_count, MinBlock, MaxBlock);
        _ids.Add(new int[length]);
        _bytes?.Add(new int[length]);
        _words?.Add(new int[length]);
        _blockUsed = 0;
        return length;
    }

    private void Copy(List<int[]> blocks, ReadOnlySpan<int> values) => values.CopyTo(blocks[^1].AsSpan(_blockUsed));

    private int[]? Gather(List<int[]>? blocks)
    {
        if (blocks is null)
        {
            return null;
        }

        var all = new int[_count];
        var offsets = new long[blocks.Count];
        for (int b = 1; b < blocks.Count; b++)
        {
            offsets[b] = offsets[b - 1] + blocks[b - 1].Length;
        }

        // In parallel: writing new memory is bound by its page faults (a 485 MB array: 1.4 s on one core of a 2-core VM, 0.7-0.9 s on two).
        Parallel.For(0, blocks.Count, b =>
        {
            int n = (int)Math.Min(blocks[b].Length, _count - offsets[b]);
            blocks[b].AsSpan(0, n).CopyTo(all.AsSpan((int)offsets[b]));
        });
        blocks.Clear();
        if (_count >= CollectAfter)
        {
            // The blocks are garbage in the large object heap, which a collection frees but keeps committed, and the
            // next array, allocated whole, does not fit in their place: only an aggressive collection gives their
            // memory back before it is allocated (121 M tokens: 3.9 GB peak RSS without it, 3.3 GB with a plain one, 2.7 GB).
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }

        return all;
    }
}
