using GpuInfo.Formats;
using Microsoft.ML.Tokenizers;

namespace GpuInfo.Models;

/// <summary>
/// A <c>Microsoft.ML.Tokenizers</c> tokenizer with what a model run needs of it: a name, the size of
/// its vocabulary (to check against the model's) and encoding of a text into ids with the bytes of
/// text each token stands for and the words it begins (<see cref="TokenBytes"/>). Load one with
/// <see cref="TokenizerCatalog.Load"/>, which also gives the built-in tiktoken encodings their
/// byte-exact pieces; one made here from another tokenizer counts by its kind (<see cref="TokenPieces"/>).
/// </summary>
public sealed class TextTokenizer
{
    /// <summary>How far on either side of a cut <see cref="CutsCleanly"/> pre-tokenizes.</summary>
    private const int CheckChars = 4096;

    private readonly Func<EncodedToken, int>? _pieceBytes;
    private readonly Lazy<int[]?> _idBytes;

    /// <param name="vocabularySize">One more than the largest id the tokenizer can give, when known.</param>
    /// <param name="splitsAtLines">True when long texts may be encoded in pieces cut after line breaks where the tokenizer's pre-tokenizer agrees (<see cref="CutsCleanly"/>: byte-level BPE and tiktoken); a tokenizer without a pre-tokenizer is then never cut.</param>
    public TextTokenizer(Tokenizer tokenizer, string name, int? vocabularySize, bool splitsAtLines)
        : this(tokenizer, name, vocabularySize, splitsAtLines, null)
    {
    }

    /// <param name="pieceBytes">The bytes each token's piece encodes (-1 where unknown); null: by the tokenizer's kind (<see cref="TokenPieces.For"/>).</param>
    /// <param name="idBytes">The same for every id, where an id alone says (a tiktoken encoding's table); null: by the tokenizer's kind (<see cref="TokenPieces.ByIds"/>).</param>
    internal TextTokenizer(Tokenizer tokenizer, string name, int? vocabularySize, bool splitsAtLines, Func<EncodedToken, int>? pieceBytes, Func<int[]?>? idBytes = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(name);
        Tokenizer = tokenizer;
        Name = name;
        VocabularySize = vocabularySize;
        SplitsAtLines = splitsAtLines;
        _pieceBytes = pieceBytes ?? TokenPieces.For(tokenizer);
        _idBytes = new Lazy<int[]?>(() => TokenPieces.WithSpecialTokens((idBytes ?? (() => TokenPieces.ByIds(tokenizer)))(), tokenizer));
    }

    public Tokenizer Tokenizer { get; }

    /// <summary>
    /// Whether workers may share this tokenizer rather than each load its own: gpuinfo's own SentencePiece BPE and
    /// Unigram keep no state between calls (read-only tables, a workspace per call), where Microsoft.ML's tokenizers
    /// lock their caches (two threads on one took as long as one thread, <see cref="DocumentEncoder"/>).
    /// </summary>
    public bool SharesAcrossThreads => Tokenizer is SentencePieceBpe or UnigramTokenizer;

    public string Name { get; }

    public int? VocabularySize { get; }

    /// <summary>
    /// What changes a text before it is encoded, or null: a tokenizer.json's normalizer by its steps, a
    /// Unicode form with what applies it ("NFC (ICU 72.1)"); a SentencePiece model's rule and space flags
    /// ("nmt_nfkc, remove_extra_whitespaces (SentencePiece)"); another normalizer by its kind.
    /// </summary>
    public string? Normalization => Tokenizer.Normalizer switch
    {
        null => null,
        AlignedNormalizer steps => steps.ToString(),
        var other => other.GetType().Name,
    };

    public bool SplitsAtLines { get; }

    /// <summary>Encode in pieces of about this many chars (where <see cref="SplitsAtLines"/>), each cut where tokenization does not cross (<see cref="PieceEnd"/>): a corpus's tokens are not all held at once.</summary>
    internal int PieceChars { get; init; } = 1 << 20;

    /// <summary>
    /// The token lm-evaluation-harness puts before a document so that its first token is predicted
    /// (its <c>prefix_token_id</c>: the tokenizer's BOS, else its EOS), where the tokenizer's files say
    /// (<see cref="DocumentPrefixes"/>); null where they do not.
    /// </summary>
    public int? DocumentPrefix { get; internal set; }

    /// <summary>Where <see cref="DocumentPrefix"/> comes from, or why there is none (for messages).</summary>
    public string DocumentPrefixSource { get; internal set; } = "not looked for";

    /// <summary>
    /// Special tokens <see cref="Encode"/> puts before each text, as Hugging Face's <c>tokenizer(text)</c>
    /// does where the <c>tokenizer.json</c>'s post-processor says (Llama 3's <c>&lt;|begin_of_text|&gt;</c>),
    /// and a SentencePiece BPE <c>.model</c>'s BOS.
    /// </summary>
    public IReadOnlyList<int> AddedBefore { get; init; } = [];

    /// <summary>Special tokens <see cref="Encode"/> puts after each text (a RoBERTa's <c>&lt;/s&gt;</c>), as <see cref="AddedBefore"/>.</summary>
    public IReadOnlyList<int> AddedAfter { get; init; } = [];

    /// <summary>
    /// Added tokens of a tokenizer.json that this does not split off as Hugging Face's tokenizer does,
    /// each with why (<see cref="AddedToken.Unsupported"/>): <see cref="Encode"/> refuses a text that
    /// holds one, rather than give other ids.
    /// </summary>
    public IReadOnlyList<(string Token, string Why)> UnsupportedAddedTokens { get; init; } = [];

    /// <summary>
    /// The one token every encoding begins with, which the tokenizer adds as Hugging Face's does (Llama
    /// 3's <c>&lt;|begin_of_text|&gt;</c>, a SentencePiece model's BOS), or null (GPT-2 adds none): before
    /// each document it is, as a prefix token is, an input that is not the text's.
    /// </summary>
    public int? BeginsEachText => AddedBefore is [var token] ? token
        : AddedBefore.Count == 0 && Tokenizer is SentencePieceTokenizer { AddBeginningOfSentence: true, BeginningOfSentenceId: >= 0 } sp ? sp.BeginningOfSentenceId
        : null;

    /// <summary>
    /// Token ids of <paramref name="text"/>, the UTF-8 bytes of text each stands for and the words of
    /// text each begins (<see cref="TokenBytes"/>: the bytes each token's piece encodes where the
    /// tokenizer says, else by its offsets). Both are null when the tokenizer normalizes the text, so
    /// that its offsets no longer point into it.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="name">What error messages call the text (its file).</param>
    /// <exception cref="InvalidFileException">The text holds one of <see cref="UnsupportedAddedTokens"/>, text its normalizer cannot normalize here, or text its vocabulary cannot encode without an unk_token.</exception>
    /// <param name="lmEvalWords">
    /// Count words as lm-evaluation-harness's <c>count_words</c>, <c>len(re.split(r"\s+", text))</c>:
    /// the empty piece that split makes for white space at the text's start goes to its first token,
    /// and the one at its end to its last.
    /// </param>
    /// <param name="countsOf">
    /// The text as given, where <paramref name="text"/> is a rewriting of it (<see cref="WikitextDetokenizer"/>): the
    /// counts then sum to its bytes and words, as lm-evaluation-harness's wikitext task counts a page's before it is
    /// detokenized (what they lack goes to the last token of text, what they have over is taken from the last back),
    /// and <see cref="TokenizedText.WordEdges"/> are its.
    /// </param>
    public TokenizedText Encode(string text, string name, bool lmEvalWords = false, string? countsOf = null) => EncodeOnWorkers(text, name, lmEvalWords, null, countsOf);

    /// <summary>Runs <c>encode(tokenizer, i)</c> for i in [0, count), each call with a tokenizer equal to this one that no other call uses at the time.</summary>
    internal delegate void ForEachPiece(int count, Action<TextTokenizer, int> encode);

    /// <summary>As <see cref="Encode(string, string, bool, string?)"/>, the text's pieces encoded by <paramref name="forEach"/> (on several cores, each with a tokenizer of its own) where it is given.</summary>
    internal TokenizedText EncodeOnWorkers(string text, string name, bool lmEvalWords, ForEachPiece? forEach, string? countsOf = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (Tokenizer.Normalizer is AlignedNormalizer normalizer && normalizer.Refuses(text) is { } refused)
        {
            throw new InvalidFileException(name, refused + ".");
        }

        foreach (var (token, why) in UnsupportedAddedTokens)
        {
            if (text.Contains(token, StringComparison.Ordinal))
            {
                throw new InvalidFileException(name, $"holds '{token}', an added token of {Name} that {why}, which gpuinfo does not do: its ids would not be Hugging Face's.");
            }
        }

        var bounds = new List<(int Start, int End)>();
        for (int start = 0; start < text.Length;)
        {
            int end = SplitsAtLines ? PieceEnd(text, start) : text.Length;
            bounds.Add((start, end));
            start = end;
        }

        // Microsoft.ML's tokenizers lock their caches: pieces encoded on two cores at once with one
        // tokenizer took as long as one after another, or longer; with a tokenizer each, half as long.
        var encoded = new (int[] Ids, int[] Ends, int[] Pieces, bool Exact)[bounds.Count];
        if (forEach is null || bounds.Count < 2)
        {
            for (int i = 0; i < bounds.Count; i++)
            {
                encoded[i] = EncodePiece(text, bounds[i].Start, bounds[i].End, name);
            }
        }
        else
        {
            var failures = new System.Runtime.ExceptionServices.ExceptionDispatchInfo?[bounds.Count];
            forEach(bounds.Count, (tokenizer, i) =>
            {
                try
                {
                    encoded[i] = tokenizer.EncodePiece(text, bounds[i].Start, bounds[i].End, name);
                }
                catch (Exception e)
                {
                    failures[i] = System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e);
                }
            });
            Array.Find(failures, f => f is not null)?.Throw();
        }

        // Bytes are counted over the whole text, so that text between two pieces goes with the token after it, as it would in one piece.
        // Each piece's arrays copied once into arrays of the text's length: a 50 MB text has 21 million tokens.
        int before = AddedBefore.Count;
        var firstTokens = new int[encoded.Length];
        for (int k = 1; k < encoded.Length; k++)
        {
            firstTokens[k] = firstTokens[k - 1] + encoded[k - 1].Ids.Length;
        }

        int total = encoded.Length == 0 ? 0 : firstTokens[^1] + encoded[^1].Ids.Length;
        int[] ids = new int[before + total + AddedAfter.Count], ends = new int[total], pieceBytes = new int[total];
        bool exact = encoded.All(e => e.Exact);

        // Where the pieces were encoded on several workers, they are joined and counted a piece per worker too.
        var parts = forEach is null || encoded.Length < 2 ? null : new TextParts(bounds, firstTokens, (n, body) => forEach(n, (_, k) => body(k)));
        void Join(int k)
        {
            encoded[k].Ids.CopyTo(ids, before + firstTokens[k]);
            encoded[k].Ends.CopyTo(ends, firstTokens[k]);
            encoded[k].Pieces.CopyTo(pieceBytes, firstTokens[k]);
        }

        if (parts is null)
        {
            for (int k = 0; k < encoded.Length; k++)
            {
                Join(k);
            }
        }
        else
        {
            parts.ForEach(encoded.Length, Join);
        }

        int[]? counts = exact && total > 0 ? TokenBytes.FromPieces(text, ends, pieceBytes, parts) : exact ? [] : null;
        int[]? words = counts is null ? null : TokenBytes.Words(text, counts, parts);
        if (countsOf is not null && counts is { Length: > 0 })
        {
            TokenBytes.Settle(counts, System.Text.Encoding.UTF8.GetByteCount(countsOf), name);
            TokenBytes.Settle(words!, TokenBytes.CountWords(countsOf), name);
        }

        byte edges = TokenBytes.WordEdges(countsOf ?? text);
        if (lmEvalWords && words is not null)
        {
            TokenBytes.AddWordEdges(words, edges);
        }

        if (AddedBefore.Count + AddedAfter.Count > 0)
        {
            // The added tokens stand for no bytes or words of the text.
            for (int i = 0; i < AddedBefore.Count; i++)
            {
                ids[i] = AddedBefore[i];
            }

            for (int i = 0; i < AddedAfter.Count; i++)
            {
                ids[before + total + i] = AddedAfter[i];
            }

            int[] none = new int[AddedBefore.Count], noneAfter = new int[AddedAfter.Count];
            counts = counts is null ? null : [.. none, .. counts, .. noneAfter];
            words = words is null ? null : [.. none, .. words, .. noneAfter];
        }

        return new TokenizedText(ids, counts, words, name, Name) { WordEdges = edges, WordsCountEdges = lmEvalWords && words is not null };
    }

    /// <summary>
    /// The ids of <paramref name="text"/>[<paramref name="start"/>, <paramref name="end"/>), where each token ends in the text, the
    /// bytes its piece encodes where the tokenizer says (else -1), and whether the ends are exact (the tokenizer's offsets
    /// point into the piece as given).
    /// </summary>
    private (int[] Ids, int[] Ends, int[] Pieces, bool Exact) EncodePiece(string text, int start, int end, string name)
    {
        string piece = text[start..end];
        IReadOnlyList<EncodedToken> tokens;
        string? normalized;
        try
        {
            if (EncodesByIds && ByIds(piece, start) is { } byIds)
            {
                return byIds;
            }

            tokens = Tokenizer.EncodeToTokens(piece, out normalized);
        }
        catch (UnencodableTextException e)
        {
            int at = piece.IndexOf(e.Piece, StringComparison.Ordinal);
            string what = e.Piece.Length == 1 ? $"U+{(int)e.Piece[0]:X4}"
                : e.Piece.Length == 2 && char.IsSurrogatePair(e.Piece, 0) ? $"U+{char.ConvertToUtf32(e.Piece, 0):X4}"
                : $"'{e.Piece}'";
            string why = e.Reason ?? $"which the vocabulary of {Name} lacks, and it has no unk_token: {e.HuggingFace}";
            throw new InvalidFileException(name, $"holds {what}{(at >= 0 ? $" (first at char {start + at})" : "")}, {why}; give its ids, from Hugging Face's tokenizer, with --tokens.");
        }

        // Offsets into a text the tokenizer normalized point back into the piece where its normalizer keeps track (a prefix space, Lowercase, a Replace).
        var alignment = normalized is not null && normalized != piece && Tokenizer.Normalizer is AlignedNormalizer aligned
            && aligned.Apply(piece, track: true) is { Aligned: true } a && a.Text == normalized ? a : (AlignedText?)null;
        bool exact = normalized is null || normalized == piece || alignment is not null;
        var ids = new int[tokens.Count];
        var ends = new int[tokens.Count];
        var pieces = new int[tokens.Count];
        for (int i = 0; i < tokens.Count; i++)
        {
            ids[i] = tokens[i].Id;
            int tokenEnd = tokens[i].Offset.End.GetOffset((alignment?.Text ?? piece).Length);
            ends[i] = start + (alignment is { } map ? (tokenEnd == 0 ? 0 : map.Ends![tokenEnd - 1]) : tokenEnd);
            pieces[i] = _pieceBytes?.Invoke(tokens[i]) ?? -1;
        }

        return (ids, ends, pieces, exact);
    }

    /// <summary>Whether a piece is first encoded to ids alone (<see cref="ByIds"/>); false to take every token's offsets (the tests compare the two).</summary>
    internal bool EncodesByIds { get; set; } = true;

    /// <summary>Pieces encoded to ids alone so far (for the tests: that the fast path is taken).</summary>
    internal long PiecesByIds => Interlocked.Read(ref _piecesByIds);

    private long _piecesByIds;

    /// <summary>
    /// A piece encoded to ids alone, where each id's bytes are known (<see cref="TokenPieces.ByIds"/>, a tiktoken table) and
    /// the tokenizer's normalizer, if it has one, leaves the piece as it is: Microsoft.ML's tokenizers make a string and
    /// offsets per token otherwise, which took 2.7 times as long for gpt2. Taken only where every token's bytes are known and add up to the piece's
    /// (no special or unknown token), so that they are its bytes; then each token's end is the character its last byte is in.
    /// Null otherwise: the piece is encoded again with its offsets.
    /// </summary>
    private (int[] Ids, int[] Ends, int[] Pieces, bool Exact)? ByIds(string piece, int start)
    {
        if (_idBytes.Value is not { } table || (Tokenizer.Normalizer is { } normalizer && normalizer.Normalize(piece) != piece))
        {
            return null;
        }

        // Normalized above where the tokenizer normalizes (Qwen's NFC): a piece it leaves as it is is encoded as it is.
        var encoded = Tokenizer.EncodeToIds(piece, considerPreTokenization: true, considerNormalization: false);
        int count = encoded.Count;
        var ids = new int[count];
        var pieces = new int[count];
        long total = 0;
        for (int i = 0; i < count; i++)
        {
            int id = encoded[i], bytes = (uint)id < (uint)table.Length ? table[id] : -1;
            if (bytes <= 0)
            {
                return null;
            }

            (ids[i], pieces[i]) = (id, bytes);
            total += bytes;
        }

        if (total != System.Text.Encoding.UTF8.GetByteCount(piece))
        {
            return null;
        }

        var ends = new int[count];
        long reached = 0, wanted = 0;
        int at = 0;
        for (int i = 0; i < count; i++)
        {
            wanted += pieces[i];
            while (reached < wanted)
            {
                // UTF-8's width of the character at 'at' (a lone surrogate is written as U+FFFD, 3 bytes).
                char c = piece[at];
                bool pair = char.IsHighSurrogate(c) && at + 1 < piece.Length && char.IsLowSurrogate(piece[at + 1]);
                reached += c < 0x80 ? 1 : c < 0x800 ? 2 : pair ? 4 : 3;
                at += pair ? 2 : 1;
            }

            ends[i] = start + at;
        }

        Interlocked.Increment(ref _piecesByIds);
        return (ids, ends, pieces, true);
    }

    /// <summary>
    /// The end of the piece from <paramref name="start"/>: about <see cref="PieceChars"/> on, after a line
    /// break followed by a non-space character where <see cref="CutsCleanly"/> (not every such place is:
    /// GPT-2's <c>\s+(?!\S)</c> reads "|\n\n`" as "|", "\n", "\n" but "|\n\n" at a text's end as "|", "\n\n").
    /// </summary>
    private int PieceEnd(string text, int start)
    {
        for (int i = Math.Min(text.Length, start + PieceChars); i < text.Length; i++)
        {
            if (text[i - 1] == '\n' && !char.IsWhiteSpace(text[i]) && CutsCleanly(text, i))
            {
                return i;
            }
        }

        return text.Length;
    }

    /// <summary>
    /// Whether the tokenizer's pre-tokenizer splits the <see cref="CheckChars"/> on either side of
    /// <paramref name="at"/> into the same pieces as it splits the two sides each on its own, so that
    /// encoding the text in two pieces there gives its ids. A line break is a boundary of every Unicode
    /// normalization form and lowercasing, so each side is normalized on its own.
    /// </summary>
    private bool CutsCleanly(string text, int at)
    {
        if (Tokenizer.PreTokenizer is not { } pre)
        {
            return false;
        }

        int from = Math.Max(0, at - CheckChars);
        string left = Normalized(text[from..at]);
        string right = Normalized(text[at..Math.Min(text.Length, at + CheckChars)]);
        if (pre is HuggingFacePreTokenizer steps)
        {
            // Its pieces with the bytes of a character a step after ByteLevel cut apart (Falcon's).
            var both = steps.Pieces(right).Select(p => p with { Offset = p.Offset + left.Length });
            return steps.Pieces(left + right).SequenceEqual(steps.Pieces(left).Concat(both));
        }

        var apart = pre.PreTokenize(left).Concat(pre.PreTokenize(right).Select(p => (p.Offset + left.Length, p.Length)));
        return pre.PreTokenize(left + right).SequenceEqual(apart);
    }

    private string Normalized(string text) => Tokenizer.Normalizer?.Normalize(text) ?? text;
}
