using System.Text;

namespace GpuInfo.Models;

/// <summary>
/// A SentencePiece model's own normalizer (its <c>normalizer_spec</c>), as <c>normalizer.cc</c> applies it
/// to a whole text: at each place the longest user-defined piece the text holds there is kept as it is,
/// else the longest key of the character map (<see cref="PrecompiledCharsmap"/>, nmt_nfkc's) is replaced,
/// else the character is kept; spaces then become '▁' (<c>escape_whitespaces</c>), a '▁' goes first
/// (<c>add_dummy_prefix</c>; last under <c>treat_whitespace_as_suffix</c>), and spaces at the ends are
/// dropped and each run of them inside made one (<c>remove_extra_whitespaces</c>), all judged on the
/// replaced text ("\t" is a space under nmt_nfkc). Unlike Hugging Face's <c>Precompiled</c> step, which
/// replaces each grapheme by its shortest key, the map's keys are matched longest first and across
/// graphemes. Each char of the result stands for all of the chars its match replaced; the dummy prefix
/// for none.
/// </summary>
internal sealed class SentencePieceNormalizer : AlignedNormalizer
{
    private const char Space = SentencePieceBpe.Space;

    private readonly PrecompiledCharsmap? _map;
    private readonly Dictionary<char, string[]> _userDefined;

    /// <param name="name">The normalization rule's name ("nmt_nfkc", "identity"), or null.</param>
    /// <param name="map">The character map, or null (identity normalization).</param>
    /// <param name="userDefined">The model's user-defined pieces, which the map leaves as they are.</param>
    public SentencePieceNormalizer(string? name, PrecompiledCharsmap? map, IEnumerable<string> userDefined, bool addDummyPrefix,
        bool removeExtraWhitespaces, bool escapeWhitespaces, bool whitespaceAsSuffix)
    {
        ArgumentNullException.ThrowIfNull(userDefined);
        Name = string.IsNullOrEmpty(name) ? (map is null ? "no character map" : "a character map") : name;
        _map = map;
        _userDefined = userDefined.Where(p => p.Length > 0).Distinct(StringComparer.Ordinal)
            .GroupBy(p => p[0]).ToDictionary(g => g.Key, g => g.OrderByDescending(p => p.Length).ToArray());
        AddsDummyPrefix = addDummyPrefix;
        RemovesExtraWhitespaces = removeExtraWhitespaces;
        EscapesWhitespaces = escapeWhitespaces;
        WhitespaceAsSuffix = whitespaceAsSuffix;
    }

    /// <summary>The rule's name as the model gives it ("nmt_nfkc"), else whether it has a character map.</summary>
    public string Name { get; }

    public bool AddsDummyPrefix { get; }

    public bool RemovesExtraWhitespaces { get; }

    public bool EscapesWhitespaces { get; }

    public bool WhitespaceAsSuffix { get; }

    /// <summary>What it does, in SentencePiece's words: "nmt_nfkc, add_dummy_prefix, remove_extra_whitespaces, escape_whitespaces (SentencePiece)".</summary>
    public override string ToString() => string.Join(", ", new[]
    {
        Name,
        AddsDummyPrefix ? "add_dummy_prefix" : null,
        RemovesExtraWhitespaces ? "remove_extra_whitespaces" : null,
        EscapesWhitespaces ? "escape_whitespaces" : null,
        WhitespaceAsSuffix ? "treat_whitespace_as_suffix" : null,
    }.Where(s => s is not null)) + " (SentencePiece)";

    public override AlignedText Apply(string original, bool track)
    {
        ArgumentNullException.ThrowIfNull(original);
        var (utf8, charOf) = Utf8(original);
        var text = new StringBuilder(original.Length + 1);
        var starts = track ? new List<int>(original.Length + 1) : null;
        var ends = track ? new List<int>(original.Length + 1) : null;
        void Add(string s, int start, int end)
        {
            text.Append(s);
            for (int i = 0; track && i < s.Length; i++)
            {
                starts!.Add(start);
                ends!.Add(end);
            }
        }

        string space = EscapesWhitespaces ? $"{Space}" : " ";
        int at = 0;
        if (RemovesExtraWhitespaces)
        {
            while (at < utf8.Length && Prefix(original, utf8, charOf, at) is var (piece, length) && piece == " ")
            {
                at += length;
            }
        }

        if (at == utf8.Length)
        {
            return new AlignedText("", track ? [] : null, track ? [] : null);
        }

        if (AddsDummyPrefix && !WhitespaceAsSuffix)
        {
            Add(space, charOf[at], charOf[at]);
        }

        bool previousSpace = RemovesExtraWhitespaces;
        while (at < utf8.Length)
        {
            var (piece, length) = Prefix(original, utf8, charOf, at);
            int skip = 0;
            while (previousSpace && skip < piece.Length && piece[skip] == ' ')
            {
                skip++;
            }

            if (skip < piece.Length)
            {
                Add(EscapesWhitespaces ? piece[skip..].Replace(' ', Space) : piece[skip..], charOf[at], charOf[at + length]);
                previousSpace = piece[^1] == ' ';
            }

            at += length;
            if (!RemovesExtraWhitespaces)
            {
                previousSpace = false;
            }
        }

        if (RemovesExtraWhitespaces)
        {
            int kept = text.Length;
            while (kept > 0 && text[kept - 1] == space[0])
            {
                kept--;
            }

            text.Length = kept;
            if (track)
            {
                starts!.RemoveRange(kept, starts.Count - kept);
                ends!.RemoveRange(kept, ends.Count - kept);
            }
        }

        if (AddsDummyPrefix && WhitespaceAsSuffix)
        {
            Add(space, original.Length, original.Length);
        }

        return new AlignedText(text.ToString(), starts?.ToArray(), ends?.ToArray());
    }

    /// <summary>
    /// What the text from byte <paramref name="at"/> begins with, as normalized, and how many of its bytes that
    /// takes: the longest user-defined piece as it is, else the map's longest key's replacement, else one character.
    /// </summary>
    private (string Piece, int Length) Prefix(string original, byte[] utf8, int[] charOf, int at)
    {
        int c = charOf[at];
        if (_userDefined.TryGetValue(original[c], out var candidates))
        {
            foreach (string piece in candidates)
            {
                if (string.CompareOrdinal(original, c, piece, 0, piece.Length) == 0 && c + piece.Length <= original.Length)
                {
                    return (piece, Encoding.UTF8.GetByteCount(piece));
                }
            }
        }

        if (_map?.Longest(utf8.AsSpan(at)) is ({ } replacement, > 0 and var length))
        {
            return (replacement, length);
        }

        int chars = char.IsSurrogatePair(original, c) ? 2 : 1;
        int bytes = at + 1;
        while (bytes < utf8.Length && charOf[bytes] == c)
        {
            bytes++;
        }

        return (original.Substring(c, chars), bytes - at);
    }

    /// <summary>The text's UTF-8 bytes, and for each byte (and the end) the char where its character begins.</summary>
    private static (byte[] Utf8, int[] CharOf) Utf8(string text)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        var charOf = new int[utf8.Length + 1];
        int b = 0;
        for (int c = 0; c < text.Length;)
        {
            int chars = char.IsSurrogatePair(text, c) ? 2 : 1;
            int bytes = Encoding.UTF8.GetByteCount(text.AsSpan(c, chars));
            charOf.AsSpan(b, bytes).Fill(c);
            (b, c) = (b + bytes, c + chars);
        }

        charOf[utf8.Length] = text.Length;
        return (utf8, charOf);
    }
}
