using System.Buffers;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace GpuInfo.Models;

/// <summary>How a Unigram tokenizer cuts a normalized text into words before it encodes each: a tokenizer.json's pre-tokenizer.</summary>
/// <param name="WhitespaceSplit">Words are the runs of non-white-space (Hugging Face's <c>WhitespaceSplit</c>, T5's), else the whole text is one.</param>
/// <param name="Replacement">A <c>Metaspace</c>'s stand-in for a space ('▁'), or null where there is none.</param>
/// <param name="Prefix">Where the Metaspace puts a <see cref="Replacement"/> before a word that does not begin with one.</param>
/// <param name="SplitAtReplacement">Whether each <see cref="Replacement"/> begins a piece of its own (Metaspace's <c>split</c>).</param>
public sealed record UnigramWords(bool WhitespaceSplit, char? Replacement, DummyPrefix Prefix, bool SplitAtReplacement)
{
    /// <summary>T5's: words at white space, each with '▁' before it.</summary>
    public static UnigramWords T5 { get; } = new(true, '\u2581', DummyPrefix.EachUnlessSpace, true);

    /// <summary>Steps that cut the words before the Metaspace sees them (a <c>Whitespace</c>), in place of <see cref="WhitespaceSplit"/>; null: none.</summary>
    internal HuggingFacePreTokenizer? Before { get; init; }

    /// <summary>Steps that cut each piece the Metaspace makes (<c>Digits</c>, <c>Punctuation</c> after it, as some T5 files have); null: none.</summary>
    internal HuggingFacePreTokenizer? After { get; init; }
}

/// <summary>
/// Where a SentencePiece <c>.model</c>'s Viterbi (unigram_model.cc) differs from Hugging Face's: the unknown
/// score (the lowest normal piece's less 10), pieces outside the lattice (control, unknown, byte and unused
/// pieces), and paths scored in float32: each candidate is its last piece's score plus the float32 score of
/// the path before it, compared in float64 and kept as float32. The pieces' scores are the lattice's (a
/// user-defined piece's bonus already applied).
/// </summary>
internal sealed record SentencePieceLattice(double UnknownScore, IReadOnlySet<int> Outside);

/// <summary>
/// A Unigram model (T5, mT5, ALBERT, XLM-R, XGLM) as Hugging Face's tokenizers 0.22 encodes with one: added
/// tokens are found in the text first; each run of text between them is normalized
/// (<see cref="HuggingFaceNormalizer"/>: SentencePiece's character map, runs of spaces made one), cut into words
/// (<see cref="UnigramWords"/>), and each word into the pieces of the best-scored path (Viterbi): every
/// piece of the vocabulary that begins at a char may end a path there, a char that no one-char piece
/// holds is unknown at the lowest score less 10, of equal paths the one whose last piece begins first
/// wins, and adjacent unknown chars are one unknown piece. A piece outside the vocabulary (an unknown
/// one) becomes its UTF-8 bytes' <c>&lt;0xNN&gt;</c> pieces where the model has byte fallback and all of
/// them, else the unknown id. Offsets point into the text as given wherever the normalizer keeps track
/// (every step does: <see cref="AlignedNormalizer"/>), so that each token's bytes are counted.
/// </summary>
/// <remarks>
/// Written here because <c>Microsoft.ML.Tokenizers</c> 3.0's Unigram gives other ids than Hugging Face's
/// (a leading space, the text after an added token, tabs and line breaks under WhitespaceSplit, runs of
/// unknown characters: rust_tokenizers.json), and has no character map.
/// </remarks>
public sealed class UnigramTokenizer : Tokenizer
{
    /// <summary>What an unknown char scores below the lowest-scored piece (Hugging Face's and SentencePiece's kUnkPenalty).</summary>
    private const double UnknownPenalty = 10;

    private readonly string[] _pieces;
    private readonly double[] _scores;
    private readonly Dictionary<string, int> _ids;
    private readonly PieceTrie _trie;

    /// <summary>Whether a piece's text is listed twice: its id is then looked up by text, as Hugging Face's Unigram does (its last), not taken from the trie.</summary>
    private readonly bool _piecesRepeat;
    private readonly BytePieces _bytes;
    private readonly AddedTokenMatcher _added;
    private readonly AlignedNormalizer? _normalizer;
    private readonly double _unknownScore;
    private readonly bool _singlePrecisionPaths;

    /// <param name="vocabulary">The pieces with their scores: piece i has id i (a piece listed twice is found as the last, as Hugging Face's).</param>
    /// <param name="unknownId">The unknown piece's id.</param>
    /// <param name="byteFallback">Whether an unknown piece becomes its bytes' &lt;0xNN&gt; pieces (where the vocabulary has them all).</param>
    /// <param name="added">Tokens found in the text before anything else (special and added tokens), with their ids.</param>
    /// <param name="normalizer">What normalizes each run of text between added tokens, or null.</param>
    /// <param name="words">How a normalized run is cut into words.</param>
    /// <param name="sentencePiece">A SentencePiece model's lattice rules, or null for Hugging Face's (the unknown score the lowest score less 10, every piece in the lattice, float64 paths).</param>
    /// <exception cref="ArgumentException">An empty vocabulary, an unknown id outside it, a score that is not finite.</exception>
    internal UnigramTokenizer(IReadOnlyList<(string Piece, double Score)> vocabulary, int unknownId, bool byteFallback,
        IReadOnlyDictionary<string, int> added, AlignedNormalizer? normalizer, UnigramWords words, SentencePieceLattice? sentencePiece = null)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(added);
        ArgumentNullException.ThrowIfNull(words);
        if (vocabulary.Count == 0)
        {
            throw new ArgumentException("a Unigram vocabulary needs at least one piece.", nameof(vocabulary));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(unknownId);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(unknownId, vocabulary.Count);
        _pieces = new string[vocabulary.Count];
        _scores = new double[vocabulary.Count];
        _ids = new Dictionary<string, int>(vocabulary.Count, StringComparer.Ordinal);
        _trie = new PieceTrie();
        double lowest = double.PositiveInfinity;
        for (int id = 0; id < vocabulary.Count; id++)
        {
            var (piece, score) = vocabulary[id];
            if (piece is null || !double.IsFinite(score))
            {
                throw new ArgumentException($"piece {id} ('{piece}') has the score {score}: a Unigram piece needs a string and a finite score.", nameof(vocabulary));
            }

            (_pieces[id], _scores[id]) = (piece, score);
            _piecesRepeat |= _ids.ContainsKey(piece);
            _ids[piece] = id;
            if (sentencePiece?.Outside.Contains(id) != true)
            {
                _trie.Add(piece, id);
            }

            lowest = Math.Min(lowest, score);
        }

        _unknownScore = sentencePiece?.UnknownScore ?? lowest - UnknownPenalty;
        _singlePrecisionPaths = sentencePiece is not null;
        _bytes = new BytePieces(_ids, _pieces.Length, byteFallback);

        _added = new AddedTokenMatcher(added);
        _normalizer = normalizer;
        SpecialTokens = new Dictionary<string, int>(added, StringComparer.Ordinal);
        UnknownId = unknownId;
        ByteFallback = byteFallback;
        Words = words;
    }

    /// <summary>Each piece's id (the last, where a piece is listed twice).</summary>
    public IReadOnlyDictionary<string, int> Vocabulary => _ids;

    /// <summary>The added tokens found in the text, with their ids.</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens { get; }

    public int UnknownId { get; }

    public bool ByteFallback { get; }

    public UnigramWords Words { get; }

    /// <summary>The model's BOS and EOS, where it names them (a SentencePiece .model's trainer spec), else -1.</summary>
    public int BeginningOfSentenceId { get; init; } = -1;

    /// <inheritdoc cref="BeginningOfSentenceId"/>
    public int EndOfSentenceId { get; init; } = -1;

    public override Normalizer? Normalizer => _normalizer;

    /// <summary>Whether <paramref name="id"/> is a byte-fallback piece (one byte of text).</summary>
    public bool IsBytePiece(int id) => _bytes.ByteOf(id) >= 0;

    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        if (settings.MaxTokenCount != int.MaxValue)
        {
            throw new NotSupportedException("UnigramTokenizer encodes whole texts: a maximum token count is not supported.");
        }

        string given = text ?? textSpan.ToString();
        var found = new List<Found>();
        var normalized = new StringBuilder(given.Length);
        bool aligned = true;
        for (int start = 0; ;)
        {
            var (at, length, id) = _added.Next(given, start, null);
            int end = at < 0 ? given.Length : at;
            if (end > start)
            {
                var run = _normalizer?.Apply(given[start..end], track: true) ?? AlignedText.Of(given[start..end], true);
                aligned &= run.Aligned;
                EncodeRun(run, start, normalized.Length, found);
                normalized.Append(run.Text);
            }

            if (at < 0)
            {
                break;
            }

            found.Add(new Found(id, given.Substring(at, length), normalized.Length, normalized.Length + length, at, at + length));
            normalized.Append(given, at, length);
            start = at + length;
        }

        // Offsets into the text as given where every run kept track of its chars; else into the normalized
        // text, which then comes back as such (and the tokens' bytes are not counted).
        var tokens = found.Select(f => new EncodedToken(f.Id, f.Value, aligned ? new Range(f.From, f.To) : new Range(f.NormalizedFrom, f.NormalizedTo))).ToList();
        string all = normalized.ToString();
        return new EncodeResults<EncodedToken> { Tokens = tokens, NormalizedText = aligned || all == given ? null : all, CharsConsumed = given.Length };
    }

    /// <summary>A token found: its id and piece, and its chars in the normalized text and in the text as given (where known).</summary>
    private readonly record struct Found(int Id, string Value, int NormalizedFrom, int NormalizedTo, int From, int To);

    /// <summary>One normalized run of text between added tokens: its words, each cut into pieces at the replacement where it splits, each piece encoded.</summary>
    /// <param name="runStart">Where the run begins in the text as given.</param>
    /// <param name="normalizedStart">Where it begins in the normalized text.</param>
    private void EncodeRun(AlignedText run, int runStart, int normalizedStart, List<Found> found)
    {
        string s = run.Text;
        if (Words.Before is { } before)
        {
            foreach (var (offset, length) in before.PreTokenize(s))
            {
                EncodeWord(run, offset, offset + length, runStart, normalizedStart, found);
            }

            return;
        }

        for (int from = 0; from < s.Length;)
        {
            int to = from;
            if (Words.WhitespaceSplit)
            {
                while (from < s.Length && char.IsWhiteSpace(s[from]))
                {
                    from++;
                }

                for (to = from; to < s.Length && !char.IsWhiteSpace(s[to]);)
                {
                    to++;
                }
            }
            else
            {
                to = s.Length;
            }

            if (to > from)
            {
                EncodeWord(run, from, to, runStart, normalizedStart, found);
            }

            from = to;
        }
    }

    /// <summary>A word: its spaces as the replacement, the replacement before it where the scheme says, then each piece (from one replacement to the next, where it splits) encoded.</summary>
    private void EncodeWord(AlignedText run, int from, int to, int runStart, int normalizedStart, List<Found> found)
    {
        char? replacement = Words.Replacement;
        var word = new StringBuilder(to - from + 1);

        // The run's chars [Froms[i], Tos[i]) that char i of the word stands for: a prefix stands for none.
        var froms = new List<int>(to - from + 1);
        var tos = new List<int>(to - from + 1);
        char first = replacement is { } r && run.Text[from] == ' ' ? r : run.Text[from];
        int original = run.Aligned ? runStart + run.Span(from, from).Start : runStart + from;
        bool prefix = replacement is not null && first != replacement && Words.Prefix switch
        {
            DummyPrefix.EachUnlessSpace => true,
            DummyPrefix.FirstUnlessSpace => original == 0,
            _ => false,
        };
        if (prefix)
        {
            word.Append(replacement!.Value);
            froms.Add(from);
            tos.Add(from);
        }

        for (int i = from; i < to; i++)
        {
            word.Append(replacement is { } space && run.Text[i] == ' ' ? space : run.Text[i]);
            froms.Add(i);
            tos.Add(i + 1);
        }

        string w = word.ToString();
        int piece = 0;
        for (int i = 1; i <= w.Length; i++)
        {
            if (i == w.Length || (Words.SplitAtReplacement && w[i] == replacement))
            {
                if (Words.After is { } after)
                {
                    foreach (var (offset, length) in after.PreTokenize(w[piece..i]))
                    {
                        EncodePiece(w, piece + offset, piece + offset + length, froms, tos, run, runStart, normalizedStart, found);
                    }
                }
                else
                {
                    EncodePiece(w, piece, i, froms, tos, run, runStart, normalizedStart, found);
                }

                piece = i;
            }
        }
    }

    /// <summary>The best-scored path through the chars [<paramref name="from"/>, <paramref name="to"/>) of <paramref name="word"/>, as tokens.</summary>
    private void EncodePiece(string word, int from, int to, List<int> froms, List<int> tos, AlignedText run, int runStart, int normalizedStart, List<Found> found)
    {
        int n = to - from;
        var best = ArrayPool<double>.Shared.Rent(n + 1);
        var starts = ArrayPool<int>.Shared.Rent(n + 1);
        var ids = ArrayPool<int>.Shared.Rent(n + 1);
        try
        {
            Array.Fill(starts, -1, 0, n + 1);
            best[0] = 0;
            for (int at = 0; at < n;)
            {
                int length = char.IsSurrogatePair(word, from + at) ? 2 : 1;
                bool single = false;
                double here = best[at];
                // Every piece the text from here begins with, shortest first, may end a path.
                for (int end = at, node = 0; end < n && (node = _trie.Child(node, word[from + end])) > 0;)
                {
                    end++;
                    if (_trie.Id(node) is var id and >= 0)
                    {
                        double score = _scores[id] + here;
                        if (starts[end] < 0 || score > best[end])
                        {
                            (best[end], starts[end], ids[end]) = (_singlePrecisionPaths ? (float)score : score, at, id);
                        }

                        single |= end - at == length;
                    }
                }

                if (!single)
                {
                    int key = at + length;
                    // SentencePiece adds the unknown score in float32 (a piece's score it adds in float64).
                    double score = _singlePrecisionPaths ? (float)(_unknownScore + here) : _unknownScore + here;
                    if (starts[key] < 0 || score > best[key])
                    {
                        (best[key], starts[key], ids[key]) = (_singlePrecisionPaths ? (float)score : score, at, UnknownId);
                    }
                }

                at += length;
            }

            // Back from the end: the path's pieces, adjacent unknown ones fused.
            var path = new List<(int From, int To, int Id)>();
            int fusedTo = -1;
            for (int end = n; end > 0;)
            {
                int start = starts[end];
                if (ids[end] == UnknownId)
                {
                    fusedTo = fusedTo < 0 ? end : fusedTo;
                }
                else
                {
                    if (fusedTo >= 0)
                    {
                        path.Add((end, fusedTo, -1));
                        fusedTo = -1;
                    }

                    path.Add((start, end, ids[end]));
                }

                end = start;
            }

            if (fusedTo >= 0)
            {
                path.Add((0, fusedTo, -1));
            }

            path.Reverse();
            foreach (var (start, end, id) in path)
            {
                // A piece of the vocabulary is its own text (no substring made, no lookup by text, unless a text is listed twice).
                string piece = id >= 0 && !_piecesRepeat ? _pieces[id] : word.Substring(from + start, end - start);
                Emit(piece, id >= 0 && !_piecesRepeat ? id : _ids.GetValueOrDefault(piece, -1), from + start, from + end, froms, tos, run, runStart, normalizedStart, found);
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(best);
            ArrayPool<int>.Shared.Return(starts);
            ArrayPool<int>.Shared.Return(ids);
        }
    }

    /// <summary>A piece of the path as its id, or its bytes' pieces, or the unknown id, with its chars in the normalized text and the text as given.</summary>
    private void Emit(string piece, int id, int from, int to, List<int> froms, List<int> tos, AlignedText run, int runStart, int normalizedStart, List<Found> found)
    {
        int runFrom = froms[from], runTo = tos[to - 1];
        var (start, end) = run.Aligned ? run.Span(runFrom, runTo) : (runFrom, runTo);
        var token = new Found(id, piece, normalizedStart + runFrom, normalizedStart + runTo, runStart + start, runStart + end);
        if (token.Id >= 0)
        {
            found.Add(token);
            return;
        }

        byte[] utf8 = Encoding.UTF8.GetBytes(piece);
        if (ByteFallback && _bytes.HasAll(utf8))
        {
            foreach (byte b in utf8)
            {
                found.Add(token with { Id = _bytes.IdOf(b), Value = _pieces[_bytes.IdOf(b)] });
            }

            return;
        }

        found.Add(token with { Id = UnknownId });
    }

    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten) =>
        PieceDecoder.Decode(ids, destination, out idsConsumed, out charsWritten, SpecialTokens, _pieces, _bytes.ByteOf,
            Words.Replacement, Words.Prefix != DummyPrefix.None || _normalizer is SentencePieceNormalizer { AddsDummyPrefix: true, WhitespaceAsSuffix: false });

    /// <summary>The vocabulary's pieces as a trie over their chars, each node with the id of the piece that ends there; its edges in a <see cref="PairTable"/> (node, char: child), which took the encoding's lookups from 14% of a profile's samples in a <see cref="Dictionary{TKey, TValue}"/>.</summary>
    private sealed class PieceTrie
    {
        private readonly PairTable _children = new();
        private readonly List<int> _ids = [-1];

        public void Add(string piece, int id)
        {
            int node = 0;
            foreach (char c in piece)
            {
                if (!_children.TryGet(node, c, out _, out int child))
                {
                    child = _ids.Count;
                    _ids.Add(-1);
                    _children.TryAdd(node, c, 0, child);
                }

                node = child;
            }

            if (node > 0)
            {
                _ids[node] = id;
            }
        }

        /// <summary>The node after <paramref name="node"/> by <paramref name="c"/>, or -1 where no piece goes on so.</summary>
        public int Child(int node, char c)
        {
            _children.TryGet(node, c, out _, out int child);
            return child;
        }

        /// <summary>The id of the piece that ends at <paramref name="node"/>, or -1.</summary>
        public int Id(int node) => _ids[node];
    }
}
