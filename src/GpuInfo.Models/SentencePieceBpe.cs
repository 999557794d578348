using System.Buffers;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace GpuInfo.Models;

/// <summary>Where a SentencePiece-style BPE puts its dummy prefix '▁' (a space before the text's first word).</summary>
public enum DummyPrefix
{
    /// <summary>Nowhere (Gemma's tokenizer.json; a model trained without add_dummy_prefix).</summary>
    None,

    /// <summary>Before every text, and every run of text between added tokens (SentencePiece's add_dummy_prefix; a tokenizer.json's Prepend('▁') normalizer).</summary>
    Always,

    /// <summary>Before the first run of text, unless it begins with a space (a Metaspace pre-tokenizer, prepend_scheme "first").</summary>
    FirstUnlessSpace,

    /// <summary>Before every run of text that does not begin with a space (a Metaspace pre-tokenizer, prepend_scheme "always").</summary>
    EachUnlessSpace,
}

/// <summary>
/// A SentencePiece-style BPE (Llama 2, TinyLlama, Mistral, Gemma): spaces become '▁', a dummy prefix
/// '▁' goes before the text (<see cref="DummyPrefix"/>), the text starts as its characters (a
/// character outside the vocabulary as its UTF-8 bytes' <c>&lt;0xNN&gt;</c> pieces, or the unknown
/// piece), and adjacent pieces merge, the best-scored merge first and of equal ones the leftmost, as
/// SentencePiece's <c>bpe_model.cc</c> and Hugging Face's BPE both do. Added tokens are found in the
/// text first (the longest at the leftmost place, as Hugging Face's tokenizer finds them) and each run
/// of text between them is encoded on its own. Offsets point into the text as given, so that each
/// token's bytes are counted (<see cref="TokenBytes"/>): the dummy prefix stands for none. A run is
/// merged in segments, cut between two characters that no piece of the vocabulary holds side by side
/// (as in "word▁" under Llama 2's), which no merge can join: the same ids, in small queues.
/// </summary>
/// <remarks>
/// Written here because <c>Microsoft.ML.Tokenizers</c> 3.0's SentencePiece BPE merges equal-scored
/// pairs right to left: "```" became <c>` ``</c> where SentencePiece and Hugging Face give <c>`` `</c>,
/// and a run of 25 spaces 9 + 16 where they give 16 + 9: 69 places in 28,316 tokens of code and
/// Markdown under Llama 2's vocabulary (tokenizers.js and SentencePiece 0.1.97 agreeing on every one).
/// </remarks>
public sealed class SentencePieceBpe : Tokenizer
{
    internal const char Space = '\u2581';

    private readonly string[] _pieces;
    private readonly Dictionary<string, int> _ids;
    private readonly PairTable _merges;
    private readonly BytePieces _bytes;
    private readonly int[] _charIds;
    private readonly AddedTokenMatcher _added;
    private readonly HashSet<int> _spannedPairs;

    /// <param name="pieces">The vocabulary: piece i has id i (null for an id no piece has: Yi's vocabulary leaves some out).</param>
    /// <param name="merges">
    /// What may merge: pairs of pieces, each with its rank (lower merges first: a tokenizer.json's merges),
    /// or pieces a merge of any two may make, each with its score (higher merges first: a SentencePiece
    /// model's pieces).
    /// </param>
    /// <param name="added">Tokens found in the text before encoding (special and added tokens), with their ids.</param>
    /// <param name="unknownId">The unknown piece, for a character outside the vocabulary without byte fallback; -1 where the model has none, and such a character is refused (<see cref="UnencodableTextException"/>).</param>
    /// <param name="byteFallback">Whether a character outside the vocabulary becomes its bytes' &lt;0xNN&gt; pieces (where the vocabulary has them all; else the unknown piece).</param>
    /// <param name="fuseUnknown">Whether adjacent unknown characters are one unknown token.</param>
    /// <param name="escapeSpaces">Whether spaces become '▁'.</param>
    /// <exception cref="ArgumentException">An unknown id outside the pieces, or a merge of pieces the vocabulary lacks.</exception>
    public SentencePieceBpe(IReadOnlyList<string> pieces, Merges merges, IReadOnlyDictionary<string, int> added,
        int unknownId, bool byteFallback, bool fuseUnknown, bool escapeSpaces, DummyPrefix dummyPrefix)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        ArgumentNullException.ThrowIfNull(merges);
        ArgumentNullException.ThrowIfNull(added);
        ArgumentOutOfRangeException.ThrowIfLessThan(unknownId, -1);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(unknownId, pieces.Count);
        if (unknownId >= 0 && pieces[unknownId] is null)
        {
            throw new ArgumentException($"the unknown id {unknownId} has no piece.", nameof(unknownId));
        }

        _pieces = [.. pieces];
        _ids = new Dictionary<string, int>(_pieces.Length, StringComparer.Ordinal);
        for (int id = 0; id < _pieces.Length; id++)
        {
            if (_pieces[id] is { } piece)
            {
                _ids.TryAdd(piece, id);
            }
        }

        _merges = merges.ByIds(_ids);
        EscapeSpaces = escapeSpaces;
        _charIds = new int[char.MaxValue + 1];
        for (int c = 0; c <= char.MaxValue; c++)
        {
            _charIds[c] = _ids.GetValueOrDefault(Normalized((char)c).ToString(), -1);
        }

        _bytes = new BytePieces(_ids, _pieces.Length, byteFallback);

        _added = new AddedTokenMatcher(added);

        _spannedPairs = SpannedPairs();
        SpecialTokens = new Dictionary<string, int>(added, StringComparer.Ordinal);
        UnknownId = unknownId;
        ByteFallback = byteFallback;
        FuseUnknown = fuseUnknown;
        DummyPrefix = dummyPrefix;
    }

    /// <summary>Each piece's id (the first, where a piece is listed twice).</summary>
    public IReadOnlyDictionary<string, int> Vocabulary => _ids;

    /// <summary>The added tokens found in the text, with their ids.</summary>
    public IReadOnlyDictionary<string, int> SpecialTokens { get; }

    public int UnknownId { get; }

    public bool ByteFallback { get; }

    public bool FuseUnknown { get; }

    public bool EscapeSpaces { get; }

    public DummyPrefix DummyPrefix { get; }

    /// <summary>The model's BOS and EOS, where it names them (a SentencePiece .model's trainer spec), else -1.</summary>
    public int BeginningOfSentenceId { get; init; } = -1;

    /// <inheritdoc cref="BeginningOfSentenceId"/>
    public int EndOfSentenceId { get; init; } = -1;

    /// <summary>Whether <paramref name="id"/> is a byte-fallback piece (one byte of text).</summary>
    public bool IsBytePiece(int id) => _bytes.ByteOf(id) >= 0;

    /// <summary>
    /// Whether added tokens are found in the text as normalized (spaces as '▁'): a SentencePiece
    /// model's user-defined pieces are; a tokenizer.json's added tokens are found in the text as given.
    /// </summary>
    public bool FindsAddedInNormalizedText { get; init; }

    /// <summary>
    /// Whether each '▁' begins a word that merges on its own (a tokenizer.json's Metaspace pre-tokenizer
    /// with <c>split</c>, Hugging Face's default: "a▁▁b" is "▁a", "▁", "▁b"); SentencePiece does not split.
    /// </summary>
    public bool SplitsAtSpaces { get; init; }

    /// <summary>
    /// What normalizes each run of text between added tokens before its spaces become '▁', or null: a
    /// SentencePiece model's own normalizer (<see cref="SentencePieceNormalizer"/>: its character map,
    /// <c>remove_extra_whitespaces</c>), as Hugging Face's slow tokenizers encode each run with SentencePiece;
    /// a tokenizer.json's steps (<see cref="HuggingFaceNormalizer"/>: <c>Precompiled</c>, <c>Replace</c>), as its
    /// normalizer runs. Tokens point into the text as given wherever it keeps track; else into the normalized
    /// text, which comes back as such (and the tokens' bytes are not counted).
    /// </summary>
    internal AlignedNormalizer? RunNormalizer { get; init; }

    public override Normalizer? Normalizer => RunNormalizer;

    protected override EncodeResults<EncodedToken> EncodeToTokens(string? text, ReadOnlySpan<char> textSpan, EncodeSettings settings)
    {
        if (settings.MaxTokenCount != int.MaxValue)
        {
            throw new NotSupportedException("SentencePieceBpe encodes whole texts: a maximum token count is not supported.");
        }

        string source = text ?? textSpan.ToString();

        // Without a normalizer, each run is encoded where it stands, its tokens straight into the result (their offsets are
        // the text's); with one, each token's chars in the normalized text are kept, and (where it kept track) in the text as given.
        var direct = RunNormalizer is null ? new List<EncodedToken>(source.Length / 3 + 16) : null;
        var found = new List<(int Id, string Piece, int NormalizedFrom, int NormalizedTo, int From, int To)>();
        var normalized = new StringBuilder(direct is null ? source.Length : 0);
        bool aligned = true;
        var tokens = new List<EncodedToken>();
        var work = new Workspace();
        int section = 0, start = 0;
        while (true)
        {
            var (at, length, id) = _added.Next(source, start, FindsAddedInNormalizedText ? Normalized : null);
            int end = at < 0 ? source.Length : at;
            if (end > start && direct is not null)
            {
                EncodeRun(source, start, end, section, direct, work);
            }
            else if (end > start)
            {
                // The run as normalized, its offsets mapped back through the normalizer's spans where it kept track.
                tokens.Clear();
                var run = RunNormalizer!.Apply(source[start..end], track: true);
                aligned &= run.Aligned;
                if (run.Text.Length > 0)
                {
                    EncodeRun(run.Text, 0, run.Text.Length, section, tokens, work);
                }

                foreach (var token in tokens)
                {
                    var (from, to) = (token.Offset.Start.Value, token.Offset.End.Value);
                    var (originalFrom, originalTo) = run.Aligned ? run.Span(from, to) : (from, to);
                    found.Add((token.Id, token.Value, normalized.Length + from, normalized.Length + to, start + originalFrom, start + originalTo));
                }

                normalized.Append(run.Text);
            }

            if (at < 0)
            {
                break;
            }

            if (direct is not null)
            {
                direct.Add(new EncodedToken(id, source.Substring(at, length), new Range(at, at + length)));
            }
            else
            {
                found.Add((id, source.Substring(at, length), normalized.Length, normalized.Length + length, at, at + length));
                normalized.Append(source, at, length);
            }

            start = at + length;
            section++;
        }

        if (direct is not null)
        {
            return new EncodeResults<EncodedToken> { Tokens = direct, NormalizedText = null, CharsConsumed = source.Length };
        }

        var result = new List<EncodedToken>(found.Count);
        foreach (var f in found)
        {
            result.Add(new EncodedToken(f.Id, f.Piece, aligned ? new Range(f.From, f.To) : new Range(f.NormalizedFrom, f.NormalizedTo)));
        }

        string? all = aligned ? null : normalized.ToString();
        return new EncodeResults<EncodedToken> { Tokens = result, NormalizedText = all == source ? null : all, CharsConsumed = source.Length };
    }

    /// <summary>One run of text between added tokens: its dummy prefix, then its segments (see <see cref="SentencePieceBpe"/>), each merged on its own.</summary>
    private void EncodeRun(string text, int start, int end, int section, List<EncodedToken> tokens, Workspace work)
    {
        bool leadingSpace = text[start] is ' ' or Space;
        bool prefix = DummyPrefix switch
        {
            DummyPrefix.Always => true,
            DummyPrefix.FirstUnlessSpace => section == 0 && !leadingSpace,
            DummyPrefix.EachUnlessSpace => !leadingSpace,
            _ => false,
        };
        int from = start, runStart = tokens.Count;
        for (int i = start + 1; i <= end; i++)
        {
            if (i == end || (!char.IsLowSurrogate(text[i])
                && (!_spannedPairs.Contains(Pair(Normalized(text[i - 1]), Normalized(text[i]))) || (SplitsAtSpaces && Normalized(text[i]) == Space))))
            {
                EncodeSegment(text, from, i, prefix && from == start, tokens, runStart, work);
                from = i;
            }
        }
    }

    /// <summary>Every two adjacent characters inside a piece that a merge can make.</summary>
    private HashSet<int> SpannedPairs()
    {
        var pairs = new HashSet<int>();
        foreach (int merged in _merges.Seconds)
        {
            string piece = _pieces[merged];
            for (int i = 1; i < piece.Length; i++)
            {
                pairs.Add(Pair(piece[i - 1], piece[i]));
            }
        }

        return pairs;
    }

    private static int Pair(char a, char b) => (a << 16) | b;

    private char Normalized(char c) => c == ' ' && EscapeSpaces ? Space : c;

    /// <summary>A segment of a run: its characters (one symbol each, the dummy prefix first), merged, then each symbol as its token (or its bytes' tokens, or the unknown token).</summary>
    /// <param name="runStart">Where the run's tokens begin: unknown characters fuse only with the run's own (not with an added token).</param>
    private void EncodeSegment(string text, int start, int end, bool prefix, List<EncodedToken> tokens, int runStart, Workspace work)
    {
        var symbols = work.Symbols;
        symbols.Clear();
        if (prefix)
        {
            symbols.Add(new Symbol(_ids.GetValueOrDefault($"{Space}", -1), start, start));
        }

        for (int i = start; i < end;)
        {
            int length = char.IsSurrogatePair(text, i) ? 2 : 1;
            symbols.Add(new Symbol(length == 2 ? _ids.GetValueOrDefault(text.Substring(i, 2), -1) : _charIds[text[i]], i, i + length));
            i += length;
        }

        Merge(work);
        foreach (var s in symbols)
        {
            if (s.Id == Merged)
            {
                continue;
            }

            if (s.Id >= 0)
            {
                tokens.Add(new EncodedToken(s.Id, _pieces[s.Id], new Range(s.From, s.To)));
            }
            else if (ByteFallback && Encoding.UTF8.GetBytes(s.To - s.From == 1 ? Normalized(text[s.From]).ToString() : s.To > s.From ? text[s.From..s.To] : $"{Space}") is var utf8
                && _bytes.HasAll(utf8))
            {
                // Its bytes' pieces, where the vocabulary has them all (Gemma's lacks <0x09>: it has "\t");
                // else the unknown piece, as Hugging Face's BPE falls back.
                foreach (byte b in utf8)
                {
                    tokens.Add(new EncodedToken(_bytes.IdOf(b), _pieces[_bytes.IdOf(b)], new Range(s.From, s.To)));
                }
            }
            else if (UnknownId < 0)
            {
                // Hugging Face's BPE without an unk_token drops the character before it merges, so its neighbours may merge across it.
                throw new UnencodableTextException(s.To > s.From ? text[s.From..s.To] : $"{Space}", "Hugging Face's BPE drops such a character and merges across it, which gpuinfo does not");
            }
            else if (FuseUnknown && tokens.Count > runStart && tokens[^1].Id == UnknownId && tokens[^1].Offset.End.Value == s.From)
            {
                tokens[^1] = new EncodedToken(UnknownId, _pieces[UnknownId], new Range(tokens[^1].Offset.Start, s.To));
            }
            else
            {
                tokens.Add(new EncodedToken(UnknownId, _pieces[UnknownId], new Range(s.From, s.To)));
            }
        }
    }

    /// <summary>A symbol merged into the one before it.</summary>
    private const int Merged = int.MinValue;

    /// <summary>Merges adjacent symbols, the best merge first and of equal ones the leftmost, until none is left.</summary>
    private void Merge(Workspace work)
    {
        var symbols = work.Symbols;
        int n = symbols.Count;
        if (n < 2)
        {
            return;
        }

        if (work.Next.Length < n)
        {
            work.Next = new int[Math.Max(n, 2 * work.Next.Length)];
            work.Prev = new int[work.Next.Length];
        }

        var (next, prev, queue) = (work.Next, work.Prev, work.Queue);
        queue.Clear();
        for (int i = 0; i < n; i++)
        {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
        }

        void Consider(int left, int right)
        {
            if (left >= 0 && right >= 0 && symbols[left].Id >= 0 && symbols[right].Id >= 0
                && _merges.TryGet(symbols[left].Id, symbols[right].Id, out int rank, out int merged))
            {
                queue.Enqueue((left, symbols[left].Id, symbols[right].Id, merged), ((long)rank << 32) | (uint)left);
            }
        }

        for (int i = 0; i + 1 < n; i++)
        {
            Consider(i, i + 1);
        }

        while (queue.TryDequeue(out var pair, out _))
        {
            var (left, leftId, rightId, merged) = pair;
            int right = next[left];
            if (symbols[left].Id != leftId || right < 0 || symbols[right].Id != rightId)
            {
                continue; // one side has merged since
            }

            symbols[left] = symbols[left] with { Id = merged, To = symbols[right].To };
            symbols[right] = symbols[right] with { Id = Merged };
            next[left] = next[right];
            if (next[right] >= 0)
            {
                prev[next[right]] = left;
            }

            Consider(prev[left], left);
            Consider(left, next[left]);
        }
    }

    public override OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten) =>
        PieceDecoder.Decode(ids, destination, out idsConsumed, out charsWritten, SpecialTokens, _pieces, _bytes.ByteOf,
            Space, DummyPrefix != DummyPrefix.None);

    /// <summary>What may merge, and which first: <see cref="Ranked"/> pairs or <see cref="Scored"/> pieces.</summary>
    public sealed class Merges
    {
        private readonly IEnumerable<(string Left, string Right)>? _pairs;
        private readonly IReadOnlyDictionary<string, float>? _scores;

        private Merges(IEnumerable<(string, string)>? pairs, IReadOnlyDictionary<string, float>? scores)
        {
            _pairs = pairs;
            _scores = scores;
        }

        /// <summary>Pairs in rank order, the first merging first (Hugging Face's BPE); a pair listed twice takes its last rank, as Hugging Face's does.</summary>
        public static Merges Ranked(IEnumerable<(string Left, string Right)> pairs) => new(pairs ?? throw new ArgumentNullException(nameof(pairs)), null);

        /// <summary>Pieces a merge of any two pieces may make, the higher score merging first (SentencePiece's BPE).</summary>
        public static Merges Scored(IReadOnlyDictionary<string, float> pieceScores) => new(null, pieceScores ?? throw new ArgumentNullException(nameof(pieceScores)));

        /// <summary>Each pair of ids that merges, with its rank (lower first; equal scores, equal ranks) and the id it makes.</summary>
        internal PairTable ByIds(Dictionary<string, int> ids)
        {
            var merges = new PairTable(_pairs is null ? _scores!.Count : (_pairs as IReadOnlyCollection<(string, string)>)?.Count ?? 0);
            int Id(string piece, string role) => ids.TryGetValue(piece, out int id) ? id
                : throw new ArgumentException($"the merge's {role} '{piece}' is not a piece of the vocabulary.", "merges");
            if (_pairs is not null)
            {
                int rank = 0;
                foreach (var (left, right) in _pairs)
                {
                    merges.Set(Id(left, "left side"), Id(right, "right side"), rank++, Id(left + right, "result"));
                }

                return merges;
            }

            var ranks = _scores!.Values.Distinct().OrderDescending().Select((score, rank) => (score, rank)).ToDictionary(r => r.score, r => r.rank);
            foreach (var (piece, score) in _scores!)
            {
                if (!ids.TryGetValue(piece, out int merged))
                {
                    continue;
                }

                for (int k = 1; k < piece.Length; k++)
                {
                    if (ids.TryGetValue(piece[..k], out int left) && ids.TryGetValue(piece[k..], out int right))
                    {
                        merges.TryAdd(left, right, ranks[score], merged);
                    }
                }
            }

            return merges;
        }
    }

    /// <summary>A symbol being merged: its piece's id (-1 for a character outside the vocabulary), and the span [From, To) of the text as given that it covers.</summary>
    private readonly record struct Symbol(int Id, int From, int To);

    /// <summary>Buffers one encoding reuses from segment to segment.</summary>
    private sealed class Workspace
    {
        public List<Symbol> Symbols { get; } = [];

        public int[] Next { get; set; } = new int[64];

        public int[] Prev { get; set; } = new int[64];

        /// <summary>Merges by rank, then by place (the rank in the high half, the left symbol in the low).</summary>
        public PriorityQueue<(int Left, int LeftId, int RightId, int Merged), long> Queue { get; } = new();
    }
}
