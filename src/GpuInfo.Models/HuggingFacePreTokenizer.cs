using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using GpuInfo.Formats;
using Microsoft.ML.Tokenizers;

namespace GpuInfo.Models;

/// <summary>
/// A tokenizer.json's <c>pre_tokenizer</c> as Hugging Face's tokenizers applies it: the
/// special tokens split off first, then each step splits every piece the steps before it made, each
/// piece on its own (a look-ahead sees only its piece). Steps: <c>Split</c> (a regex or a string; its
/// <c>behavior</c>, Isolated, Removed, MergedWithPrevious, MergedWithNext or Contiguous, applied to the
/// matches, or with <c>invert</c> to what lies between them), <c>Digits</c>, <c>Punctuation</c> (Falcon's; by the library's own classes, <see cref="HuggingFaceCharacters"/>),
/// <c>WhitespaceSplit</c>, <c>BertPreTokenizer</c> (white space removed, then each punctuation character on its own),
/// <c>CharDelimiterSplit</c>, <c>UnicodeScripts</c> (at each change of script, by the library's own script table), and
/// <c>ByteLevel</c> (with <c>use_regex</c>, GPT-2's split), in a <c>Sequence</c>:
/// DeepSeek V3's three Splits, GPT-4o's inverted one, Llama 3's one. A ByteLevel that adds a prefix space
/// (RoBERTa-style files, Whisper's) is read where it comes first, so that it adds the space to each run of
/// text between special tokens (<see cref="AddsPrefixSpace"/>: the tokenizer's normalizer adds it, <see cref="PrefixSpaceNormalizer"/>);
/// after a splitting step, and other kinds, are refused by name.
/// </summary>
internal sealed class HuggingFacePreTokenizer : PreTokenizer
{
    private readonly IReadOnlyList<Step> _steps;
    private readonly AddedTokenMatcher _special;

    private HuggingFacePreTokenizer(IReadOnlyList<Step> steps, IReadOnlyDictionary<string, int>? specialTokens, bool addsPrefixSpace)
    {
        _steps = steps;
        _special = new AddedTokenMatcher(specialTokens ?? new Dictionary<string, int>());
        AddsPrefixSpace = addsPrefixSpace;
    }

    /// <summary>Whether its ByteLevel step puts a space before each run of text between special tokens that does not begin with one (add_prefix_space).</summary>
    public bool AddsPrefixSpace { get; }

    private enum Behavior { Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous }

    /// <summary>
    /// The pre-tokenizer a tokenizer.json's <c>pre_tokenizer</c> describes: for a byte-level model GPT-2's split
    /// where it has none; for a character-level one (<paramref name="byteLevel"/> false) no split, the text
    /// between special tokens one piece, as Hugging Face's model then sees it.
    /// </summary>
    public static HuggingFacePreTokenizer Read(JsonNode? node, IReadOnlyDictionary<string, int>? specialTokens, string path, bool byteLevel = true)
    {
        var steps = new List<Step>();
        bool afterByteLevel = false, prefixSpace = false;
        Add(node, steps, ref afterByteLevel, ref prefixSpace, path);
        return new HuggingFacePreTokenizer(node is null && byteLevel ? [Gpt2()] : steps, specialTokens, prefixSpace);
    }

    /// <summary>
    /// Hugging Face's <c>Whitespace</c>: the runs of word characters and the runs of other non-space characters,
    /// space dropped. Rust's <c>\w</c> is Unicode's word class (Alphabetic, marks, decimal digits, connector
    /// punctuation, ZWNJ and ZWJ), .NET's only letters, nonspacing marks, digits and connectors: written out.
    /// </summary>
    private const string WordCharacters = @"\p{L}\p{M}\p{Nd}\p{Nl}\p{Pc}\u200C\u200D\u24B6-\u24E9";

    /// <summary>A step that matches each code point <paramref name="matches"/> holds, each a match of its own (Hugging Face's split by a char predicate).</summary>
    private static Step CharStep(Func<int, bool> matches, Behavior behavior) => new(null!, behavior, false) { Finds = piece => EachCodePoint(piece, matches) };

    private static IEnumerable<(int Index, int Length)> EachCodePoint(string piece, Func<int, bool> matches)
    {
        for (int i = 0; i < piece.Length;)
        {
            int n = char.IsSurrogatePair(piece, i) ? 2 : 1;
            if (matches(n == 2 ? char.ConvertToUtf32(piece[i], piece[i + 1]) : piece[i]))
            {
                yield return (i, n);
            }

            i += n;
        }
    }

    /// <summary>
    /// UnicodeScripts' pieces: from each code point whose script (<see cref="HuggingFaceCharacters.Script"/>) is not
    /// that of the last code point with a script before it, to the next such; none where the piece has no scripted code point.
    /// </summary>
    private static IEnumerable<(int Index, int Length)> ScriptRuns(string piece)
    {
        int start = -1, last = -1;
        for (int i = 0; i < piece.Length;)
        {
            int n = char.IsSurrogatePair(piece, i) ? 2 : 1;
            int script = HuggingFaceCharacters.Script(n == 2 ? char.ConvertToUtf32(piece[i], piece[i + 1]) : piece[i]);
            if (script >= 0 && script != last)
            {
                if (start >= 0)
                {
                    yield return (start, i - start);
                }

                (start, last) = (i, script);
            }

            i += n;
        }

        if (start >= 0)
        {
            yield return (start, piece.Length - start);
        }
    }

    /// <summary>Rust's <c>char::is_whitespace</c> (Unicode's White_Space, all in the BMP), as .NET's <see cref="char.IsWhiteSpace(char)"/>.</summary>
    private static bool IsWhiteSpace(int codePoint) => codePoint < 0x10000 && char.IsWhiteSpace((char)codePoint);

    private static Step Gpt2() => new(new Regex(TokenizerCatalog.Gpt2Pattern, RegexOptions.Compiled), Behavior.Isolated, false);

    /// <param name="afterByteLevel">Whether a ByteLevel step came before: the steps after it split the bytes' stand-ins (<see cref="ByteLevelText"/>), as Hugging Face's do.</param>
    /// <param name="prefixSpace">Set where a ByteLevel step adds a prefix space.</param>
    private static void Add(JsonNode? node, List<Step> steps, ref bool afterByteLevel, ref bool prefixSpace, string path)
    {
        if (node is null)
        {
            return;
        }

        string? type = node["type"] is JsonValue t && t.TryGetValue(out string? s) ? s : null;
        switch (type)
        {
            case "Sequence":
                foreach (var inner in node["pretokenizers"] as JsonArray ?? [])
                {
                    Add(inner, steps, ref afterByteLevel, ref prefixSpace, path);
                }

                break;
            case "ByteLevel":
                if (Flag(node, "add_prefix_space", false))
                {
                    // Each piece the steps before it made gets the space; first, the pieces are the runs between special tokens.
                    prefixSpace = steps.Count == 0 && !afterByteLevel ? true
                        : throw new InvalidFileException(path, "has a ByteLevel pre-tokenizer that adds a prefix space after other steps; this reads one that comes first.");
                }

                if (Flag(node, "use_regex", true))
                {
                    steps.Add(Gpt2() with { OnBytes = afterByteLevel });
                }

                afterByteLevel = true;
                break;
            case "Split":
                var pattern = node["pattern"] as JsonObject;
                string? regex = pattern?["Regex"] is JsonValue r && r.TryGetValue(out string? rs) ? rs : null;
                string? literal = pattern?["String"] is JsonValue l && l.TryGetValue(out string? ls) ? ls : null;
                if ((regex ?? literal) is not { Length: > 0 } text)
                {
                    throw new InvalidFileException(path, "has a Split pre-tokenizer without a Regex or String pattern.");
                }

                steps.Add(new Step(new Regex(regex ?? Regex.Escape(text), RegexOptions.Compiled), ReadBehavior(node, "", path), Flag(node, "invert", false)) { OnBytes = afterByteLevel });
                break;
            case "Digits":
                steps.Add(new Step(new Regex(@"\p{N}", RegexOptions.Compiled), Flag(node, "individual_digits", false) ? Behavior.Isolated : Behavior.Contiguous, false) { OnBytes = afterByteLevel });
                break;
            case "Punctuation":
                // Each character Rust's is_ascii_punctuation or the library's P* categories hold, on its own.
                steps.Add(CharStep(HuggingFaceCharacters.IsPunctuation, ReadBehavior(node, "Isolated", path)) with { OnBytes = afterByteLevel });
                break;
            case "BertPreTokenizer":
                steps.Add(CharStep(IsWhiteSpace, Behavior.Removed) with { OnBytes = afterByteLevel });
                steps.Add(CharStep(HuggingFaceCharacters.IsPunctuation, Behavior.Isolated) with { OnBytes = afterByteLevel });
                break;
            case "UnicodeScripts":
                // Pieces from each change of script to the next (a space, in every script, stays with what precedes it); what comes before a piece's first scripted char is dropped, as the library drops it.
                steps.Add(new Step(null!, Behavior.Removed, true) { Finds = ScriptRuns, OnBytes = afterByteLevel });
                break;
            case "CharDelimiterSplit":
                int delimiter = node["delimiter"] is JsonValue dv && dv.TryGetValue(out string? ds) && ds.EnumerateRunes().Count() == 1 ? ds.EnumerateRunes().First().Value
                    : throw new InvalidFileException(path, $"has a CharDelimiterSplit pre-tokenizer whose delimiter, {node["delimiter"]?.ToJsonString() ?? "null"}, is not one character.");
                steps.Add(CharStep(c => c == delimiter, Behavior.Removed) with { OnBytes = afterByteLevel });
                break;
            case "WhitespaceSplit":
                steps.Add(new Step(new Regex(@"\s", RegexOptions.Compiled), Behavior.Removed, false) { OnBytes = afterByteLevel });
                break;
            case "Whitespace":
                steps.Add(new Step(new Regex($"[{WordCharacters}]+|[^{WordCharacters}\\s]+", RegexOptions.Compiled), Behavior.Removed, true) { OnBytes = afterByteLevel });
                break;
            default:
                throw new InvalidFileException(path, $"has a {type ?? "typeless"} pre-tokenizer; gpuinfo reads Split, Digits, Punctuation, Whitespace, WhitespaceSplit, BertPreTokenizer, CharDelimiterSplit, UnicodeScripts and ByteLevel ones and a Sequence of them.");
        }
    }

    private static Behavior ReadBehavior(JsonNode node, string otherwise, string path)
    {
        string behavior = node["behavior"] is JsonValue b && b.TryGetValue(out string? bs) ? bs : otherwise;
        return Enum.TryParse<Behavior>(behavior, out var parsed) && Enum.IsDefined(parsed) ? parsed
            : throw new InvalidFileException(path, $"has a {node["type"]} pre-tokenizer with behavior '{behavior}', not Isolated, Removed, MergedWithPrevious, MergedWithNext or Contiguous.");
    }

    private static bool Flag(JsonNode node, string key, bool otherwise) => node[key] is JsonValue v && v.TryGetValue(out bool b) ? b : otherwise;

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => PreTokenize(text.ToString());

    /// <exception cref="SplitInsideCharacterException">A step after ByteLevel cut inside a character (<see cref="Pieces"/> holds such pieces).</exception>
    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text)
    {
        var pieces = Pieces(text ?? "");
        if (pieces.FirstOrDefault(p => !p.Whole) is { Length: > 0 } cut)
        {
            string source = text ?? "";
            throw new SplitInsideCharacterException(cut.Head > 0 ? cut.Offset : cut.Offset + cut.Length - (char.IsLowSurrogate(source[cut.Offset + cut.Length - 1]) && cut.Length > 1 ? 2 : 1));
        }

        return pieces.Select(p => (p.Offset, p.Length)).ToList();
    }

    /// <summary>Whether a step after ByteLevel may cut inside a character (Falcon's Digits on "β", whose bytes stand as "Î²").</summary>
    public bool SplitsBytes => _steps.Any(step => step.OnBytes);

    /// <summary>
    /// The pieces of <paramref name="text"/> in order, special tokens among them, each in chars and, where a step after
    /// ByteLevel cut inside a character, the bytes of its first and last character it leaves out (<see cref="Piece"/>).
    /// </summary>
    internal List<Piece> Pieces(string text)
    {
        var pieces = new List<Piece>();
        SplitSpecial(text, pieces);
        foreach (var step in _steps)
        {
            var next = new List<Piece>(pieces.Count * 2);
            foreach (var piece in pieces)
            {
                if (piece.Special)
                {
                    next.Add(piece);
                }
                else
                {
                    step.Split(text, piece, next);
                }
            }

            pieces = next;
        }

        pieces.RemoveAll(p => p.Length == 0);
        return pieces;
    }

    /// <summary>The text in pieces: each special token (the longest at the leftmost place) one piece, and the text between them.</summary>
    private void SplitSpecial(string text, List<Piece> pieces)
    {
        int start = 0;
        while (start < text.Length)
        {
            var (at, length, _) = _special.Next(text, start);
            if (at < 0)
            {
                break;
            }

            pieces.Add(new Piece(start, at - start, false));
            pieces.Add(new Piece(at, length, true));
            start = at + length;
        }

        pieces.Add(new Piece(start, text.Length - start, false));
    }

    /// <summary>
    /// A piece of a text: its chars [<see cref="Offset"/>, <see cref="Offset"/> + <see cref="Length"/>), less the first
    /// <see cref="Head"/> UTF-8 bytes of its first character and the last <see cref="Tail"/> of its last, where a step after
    /// ByteLevel cut inside them.
    /// </summary>
    internal readonly record struct Piece(int Offset, int Length, bool Special, int Head = 0, int Tail = 0)
    {
        public bool Whole => Head == 0 && Tail == 0;
    }

    private sealed record Step(Regex Regex, Behavior Behavior, bool Invert)
    {
        /// <summary>Whether the step comes after ByteLevel and so splits the text's UTF-8 bytes (<see cref="ByteLevelText"/>).</summary>
        public bool OnBytes { get; init; }

        /// <summary>Where set, what finds the step's matches in a piece, instead of its <see cref="Regex"/> (a char predicate's code points, UnicodeScripts' runs).</summary>
        public Func<string, IEnumerable<(int Index, int Length)>>? Finds { get; init; }

        /// <summary>Splits <paramref name="given"/>, a piece of <paramref name="text"/>, matching within it alone.</summary>
        public void Split(string text, Piece given, List<Piece> output)
        {
            var (offset, length) = (given.Offset, given.Length);
            if (length == 0)
            {
                return;
            }

            // Spans are cut and merged in the matched text's own positions (bytes, after ByteLevel), and only
            // the pieces that come out are mapped back: a merge may join a character's bytes again. A piece a
            // step before cut inside a character is matched without the bytes it leaves out.
            var (whole, starts) = OnBytes ? ByteLevelText.Read(text, offset, length)
                : Finds is not null ? (text.Substring(offset, length), null)
                : CodePointText.Read(text, offset, length);
            int head = given.Head, tail = given.Tail;
            string piece = given.Whole ? whole : whole[head..^tail];
            var spans = new List<(int Start, int End, bool Match)>();
            int at = 0;
            foreach (var (index, matchLength) in MatchesIn(piece))
            {
                if (index > at)
                {
                    spans.Add((at, index, Invert));
                }

                spans.Add((index, index + matchLength, !Invert));
                at = index + matchLength;
            }

            if (at < piece.Length)
            {
                spans.Add((at, piece.Length, Invert));
            }

            var merged = Behavior switch
            {
                Behavior.Removed => [.. spans.Where(s => !s.Match)],
                Behavior.MergedWithPrevious => MergeWithNeighbour(spans),
                Behavior.MergedWithNext => Reversed(MergeWithNeighbour(Reversed(spans))),
                Behavior.Contiguous => Contiguous(spans),
                _ => spans,
            };
            foreach (var (start, end, _) in merged)
            {
                output.Add(Mapped(head + Math.Min(start, end), head + Math.Max(start, end), starts, offset));
            }
        }

        /// <summary>
        /// The piece of the matched positions [<paramref name="from"/>, <paramref name="to"/>) in chars of the text: where
        /// <paramref name="starts"/> marks a position inside a character (-1: a byte after its first), the character's
        /// bytes it leaves out.
        /// </summary>
        private static Piece Mapped(int from, int to, int[]? starts, int offset)
        {
            if (starts is null)
            {
                return new Piece(offset + from, to - from, false);
            }

            int first = from, head = 0;
            while (starts[first] < 0)
            {
                first--;
                head++;
            }

            int last = to, tail = 0;
            while (starts[last] < 0)
            {
                last++;
                tail++;
            }

            return new Piece(offset + starts[first], starts[last] - starts[first], false, head, tail);
        }

        /// <summary>The non-empty matches in <paramref name="piece"/>: of the regex, or what <see cref="Finds"/> finds.</summary>
        private IEnumerable<(int Index, int Length)> MatchesIn(string piece) => Finds is not null ? Finds(piece) : RegexMatches(piece);

        /// <summary>
        /// The regex's non-empty matches, one at a time: <see cref="Regex.Matches(string)"/> keeps every match of a piece
        /// (a whole text, where no special token cuts it), which made a byte-level BPE's encoding a third slower.
        /// </summary>
        private IEnumerable<(int Index, int Length)> RegexMatches(string piece)
        {
            for (var m = Regex.Match(piece); m.Success; m = m.NextMatch())
            {
                if (m.Length > 0)
                {
                    yield return (m.Index, m.Length);
                }
            }
        }

        /// <summary>
        /// Each match joined to the span before it, unless that span was itself a match (as Hugging
        /// Face's MergedWithPrevious; MergedWithNext is this over the spans reversed).
        /// </summary>
        private static List<(int Start, int End, bool Match)> MergeWithNeighbour(List<(int Start, int End, bool Match)> spans)
        {
            var merged = new List<(int Start, int End, bool Match)>();
            bool previousMatch = false;
            foreach (var span in spans)
            {
                if (span.Match && !previousMatch && merged.Count > 0)
                {
                    merged[^1] = (merged[^1].Start, span.End, false);
                }
                else
                {
                    merged.Add(span);
                }

                previousMatch = span.Match;
            }

            return merged;
        }

        /// <summary>The spans in reverse order, each from its end to its start (so that joining them runs backwards).</summary>
        private static List<(int Start, int End, bool Match)> Reversed(List<(int Start, int End, bool Match)> spans) =>
            [.. Enumerable.Reverse(spans).Select(s => (s.End, s.Start, s.Match))];

        /// <summary>Runs of matches side by side joined into one (Hugging Face's Contiguous).</summary>
        private static List<(int Start, int End, bool Match)> Contiguous(List<(int Start, int End, bool Match)> spans)
        {
            var merged = new List<(int Start, int End, bool Match)>();
            bool previousMatch = false;
            foreach (var span in spans)
            {
                if (span.Match == previousMatch && merged.Count > 0)
                {
                    merged[^1] = (merged[^1].Start, span.End, span.Match);
                }
                else
                {
                    merged.Add(span);
                }

                previousMatch = span.Match;
            }

            return merged;
        }
    }
}

/// <summary>A pre-tokenizer step after ByteLevel split the UTF-8 bytes of the character at <see cref="At"/> apart (Falcon's Digits on "β", whose bytes stand as "Î²"): pieces of a character, which <see cref="HuggingFacePreTokenizer.PreTokenize(string)"/>'s char offsets cannot hold (<see cref="HuggingFacePreTokenizer.Pieces"/> can).</summary>
internal sealed class SplitInsideCharacterException(int at) : Exception($"The pre-tokenizer splits the UTF-8 bytes of the character at char {at} apart.")
{
    public int At { get; } = at;
}
