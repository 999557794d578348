using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using GpuInfo.Formats;

namespace GpuInfo.Models;

/// <summary>
/// A tokenizer.json's <c>normalizer</c>: Unicode normalization (NFC, NFD, NFKC, NFKD, by
/// <see cref="UnicodeForms"/>: the machine's ICU, or .NET's where it normalizes), <c>Lowercase</c> (per code point, as Rust's <c>char::to_lowercase</c>
/// that Hugging Face calls), SentencePiece's character map (<c>Precompiled</c>, <see cref="PrecompiledCharsmap"/>),
/// <c>Replace</c> (a string or a regular expression), <c>Strip</c>, <c>StripAccents</c>, <c>Nmt</c>, <c>BertNormalizer</c>
/// (<c>clean_text</c>, <c>handle_chinese_chars</c>, <c>strip_accents</c>, <c>lowercase</c>, by the library's own character
/// classes: <see cref="HuggingFaceCharacters"/>), and a <c>Sequence</c> of them (Qwen's tokenizer.json is NFC, Claude's NFKC,
/// T5's a character map and a Replace, ALBERT's seven steps, BERT's one BertNormalizer). Other kinds are refused by name
/// rather than skipped. Each step keeps track of where its chars come from (<see cref="Apply"/>; a Unicode form by
/// putting each grapheme in the form on its own), so that a tokenizer that encodes the normalized text can still
/// count its tokens' bytes of the text as given. On a machine without
/// ICU a text that the Unicode form may change is refused (<see cref="Refuses(string)"/>: under NFC only one that
/// holds a character NFC may change or compose) rather than encoded unnormalized.
/// </summary>
internal sealed class HuggingFaceNormalizer : AlignedNormalizer
{
    private readonly IReadOnlyList<(string Name, Func<AlignedText, AlignedText> Apply)> _steps;
    private readonly string? _unicodeForm;

    private HuggingFaceNormalizer(IReadOnlyList<(string, Func<AlignedText, AlignedText>)> steps, string? unicodeForm)
    {
        _steps = steps;
        _unicodeForm = unicodeForm;
    }

    /// <summary>Its steps, a Unicode form with what applies it: "NFKC (ICU 72.1), Lowercase".</summary>
    public override string ToString() =>
        string.Join(", ", _steps.Select(s => s.Name == _unicodeForm ? $"{s.Name} ({UnicodeForms.Source})" : s.Name));

    /// <summary>
    /// Why <paramref name="text"/> cannot be normalized here, or null: where <see cref="UnicodeForms.Available"/>, null. NFC leaves a text unchanged
    /// unless it holds a character whose NFC_Quick_Check is No (a singleton such as U+212B ANGSTROM SIGN,
    /// a composition exclusion, a CJK compatibility ideograph: <see cref="NfcChanges"/>) or Maybe (a
    /// combining mark or a conjoining Hangul jamo, which may compose with what precedes it), so such a
    /// text is refused and any other read as it is; under NFD, NFKC and NFKD any text beyond ASCII is.
    /// </summary>
    public override string? Refuses(string text) => Refuses(text, UnicodeForms.Available);

    /// <summary><see cref="Refuses(string)"/> on a machine that can normalize, or cannot.</summary>
    internal string? Refuses(string text, bool canNormalize)
    {
        if (_unicodeForm is null || canNormalize || System.Text.Ascii.IsValid(text))
        {
            return null;
        }

        int at = _unicodeForm == "NFC" ? FirstNfcChange(text) : 0;
        return at < 0 ? null
            : $"holds {(at < text.Length ? $"U+{char.ConvertToUtf32(text, at):X4} at char {at}, " : "")}which the tokenizer's {_unicodeForm} normalizer may change, and this machine cannot normalize: {UnicodeForms.Source}. Its ids would not be Hugging Face's: install ICU (libicu), or give its ids, from Hugging Face's tokenizer, with --tokens";
    }

    /// <summary>The first char of a code point NFC may change or compose (see <see cref="Refuses(string)"/>), or -1.</summary>
    private static int FirstNfcChange(string text)
    {
        for (int i = 0; i < text.Length; i += char.IsSurrogatePair(text, i) ? 2 : 1)
        {
            int c = char.IsSurrogatePair(text, i) ? char.ConvertToUtf32(text, i) : text[i];
            if (c >= 0x300 && (NfcChanges(c) || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.NonSpacingMark
                or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark || c is >= 0x1100 and <= 0x11FF))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>NFC_Quick_Check=No (Unicode's DerivedNormalizationProps), by ranges.</summary>
    private static bool NfcChanges(int c) => c is (>= 0x0340 and <= 0x0341) or (>= 0x0343 and <= 0x0344) or 0x0374 or 0x037E or 0x0387
        or (>= 0x0958 and <= 0x095F) or (>= 0x09DC and <= 0x09DD) or 0x09DF or 0x0A33 or 0x0A36 or (>= 0x0A59 and <= 0x0A5B) or 0x0A5E
        or (>= 0x0B5C and <= 0x0B5D) or 0x0F43 or 0x0F4D or 0x0F52 or 0x0F57 or 0x0F5C or 0x0F69 or 0x0F73 or (>= 0x0F75 and <= 0x0F76)
        or 0x0F78 or 0x0F81 or 0x0F93 or 0x0F9D or 0x0FA2 or 0x0FA7 or 0x0FAC or 0x0FB9 or (>= 0x1F71 and <= 0x1FFD)
        or (>= 0x2000 and <= 0x2001) or 0x2126 or (>= 0x212A and <= 0x212B) or (>= 0x2329 and <= 0x232A) or 0x2ADC
        or (>= 0xF900 and <= 0xFAFF) or (>= 0xFB1D and <= 0xFB4E) or (>= 0x1D15E and <= 0x1D164) or (>= 0x1D1BB and <= 0x1D1C0)
        or (>= 0x2F800 and <= 0x2FA1D);

    /// <summary>The normalizer a tokenizer.json describes, or null where it has none (or an empty Sequence).</summary>
    public static HuggingFaceNormalizer? Read(JsonNode? node, string path)
    {
        var steps = new List<(string, Func<AlignedText, AlignedText>)>();
        string? form = null;
        Add(node, steps, ref form, path);
        return steps.Count == 0 ? null : new HuggingFaceNormalizer(steps, form);
    }

    private static void Add(JsonNode? node, List<(string, Func<AlignedText, AlignedText>)> steps, ref string? unicodeForm, string path)
    {
        if (node is null)
        {
            return;
        }

        string? type = node["type"] is JsonValue t && t.TryGetValue(out string? s) ? s : null;
        switch (type)
        {
            case "Sequence":
                foreach (var inner in node["normalizers"] as JsonArray ?? [])
                {
                    Add(inner, steps, ref unicodeForm, path);
                }

                break;
            case "NFC" or "NFD" or "NFKC" or "NFKD":
                var form = Enum.Parse<NormalizationForm>("Form" + type[2..]);
                steps.Add((type, text => UnicodeForms.Available ? UnicodeForm(text, form) : text)); // else Refuses(text) already refused a text it changes
                unicodeForm = type;
                break;
            case "BertNormalizer":
                bool lowercase = Flag(node, "lowercase", true);
                if (Flag(node, "clean_text", true))
                {
                    steps.Add(("BertNormalizer clean_text", CleanText));
                }

                if (Flag(node, "handle_chinese_chars", true))
                {
                    steps.Add(("BertNormalizer handle_chinese_chars", SpaceChinese));
                }

                // strip_accents null (BERT's uncased files) follows lowercase.
                if (Flag(node, "strip_accents", lowercase))
                {
                    steps.Add(("NFD", text => UnicodeForms.Available ? UnicodeForm(text, NormalizationForm.FormD) : text));
                    steps.Add(("BertNormalizer strip_accents", StripNonspacingMarks));
                    unicodeForm = "NFD";
                }

                if (lowercase)
                {
                    steps.Add(("Lowercase", Lowercase));
                }

                break;
            case "Lowercase":
                steps.Add((type, Lowercase));
                break;
            case "Precompiled":
                var map = Charsmap(node, path);
                steps.Add(("Precompiled", text =>
                {
                    try
                    {
                        return Precompiled(text, map);
                    }
                    catch (FormatException e)
                    {
                        throw new InvalidFileException(path, $"has a Precompiled normalizer with {e.Message.TrimEnd('.')}.");
                    }
                }));
                break;
            case "Replace":
                var (name, pattern) = ReplacePattern(node, path);
                string content = node["content"] is JsonValue c && c.TryGetValue(out string? with) ? with
                    : throw new InvalidFileException(path, $"has a Replace normalizer ({name}) without a content string.");
                steps.Add(($"Replace({name})", text => Replace(text, pattern, content)));
                break;
            case "Strip":
                bool left = Flag(node, "strip_left"), right = Flag(node, "strip_right");
                steps.Add(("Strip", text => Strip(text, left, right)));
                break;
            case "StripAccents":
                steps.Add((type, StripAccents));
                break;
            case "Nmt":
                steps.Add((type, Nmt));
                break;
            default:
                throw new InvalidFileException(path, $"has a {type ?? "typeless"} normalizer; gpuinfo reads NFC, NFD, NFKC, NFKD, Lowercase, Precompiled, Replace, Strip, StripAccents, Nmt and BertNormalizer ones and a Sequence of them.");
        }
    }

    private static bool Flag(JsonNode node, string key, bool otherwise = false) => node[key] is JsonValue v && v.TryGetValue(out bool b) ? b : otherwise;

    private static PrecompiledCharsmap Charsmap(JsonNode node, string path)
    {
        try
        {
            string base64 = node["precompiled_charsmap"] is JsonValue v && v.TryGetValue(out string? s) ? s
                : throw new FormatException("no precompiled_charsmap string");
            return new PrecompiledCharsmap(Convert.FromBase64String(base64));
        }
        catch (FormatException e)
        {
            throw new InvalidFileException(path, $"has a Precompiled normalizer with {e.Message.TrimEnd('.')}.");
        }
    }

    /// <summary>A Replace's pattern, as a regular expression (a string's escaped), and how to name it.</summary>
    private static (string Name, Regex Pattern) ReplacePattern(JsonNode node, string path)
    {
        var pattern = node["pattern"] as JsonObject;
        if (pattern?["String"] is JsonValue literal && literal.TryGetValue(out string? text) && text.Length > 0)
        {
            return ($"'{text}'", new Regex(Regex.Escape(text), RegexOptions.CultureInvariant));
        }

        if (pattern?["Regex"] is JsonValue expression && expression.TryGetValue(out string? regex))
        {
            try
            {
                return ($"/{regex}/", new Regex(regex, RegexOptions.CultureInvariant));
            }
            catch (ArgumentException e)
            {
                throw new InvalidFileException(path, $"has a Replace normalizer whose regex /{regex}/ .NET cannot read: {e.Message}");
            }
        }

        throw new InvalidFileException(path, $"has a Replace normalizer whose pattern, {pattern?.ToJsonString() ?? "null"}, is neither a non-empty String nor a Regex.");
    }

    /// <summary>
    /// <paramref name="text"/> in a Unicode form, each grapheme (extended grapheme cluster) put in the form on its own
    /// so that its chars stand for the grapheme's (canonical reordering and composition stay within a base
    /// character and its marks, and Hangul jamo within their syllable). Where that differs from the form of the
    /// whole text, its result comes back without spans.
    /// </summary>
    private static AlignedText UnicodeForm(AlignedText text, NormalizationForm form)
    {
        string whole = UnicodeForms.Normalize(text.Text, form);
        if (whole == text.Text || !text.Aligned)
        {
            return whole == text.Text ? text : new AlignedText(whole, null, null);
        }

        var built = new AlignedText.Builder(text);
        string s = text.Text;
        for (int at = 0; at < s.Length;)
        {
            int length = s[at] < 0x80 && (at + 1 == s.Length || s[at + 1] < 0x80) ? 1 : StringInfo.GetNextTextElementLength(s, at);
            string grapheme = s.Substring(at, length);
            string normalized = length == 1 && grapheme[0] < 0x80 ? grapheme : UnicodeForms.Normalize(grapheme, form);
            if (normalized == grapheme)
            {
                built.Keep(at, at + length);
            }
            else
            {
                built.Replace(at, at + length, normalized);
            }

            at += length;
        }

        var result = built.Build();
        return result.Text == whole ? result : new AlignedText(whole, null, null);
    }

    /// <summary>
    /// BertNormalizer's <c>clean_text</c>: control, format and private-use characters, U+0000 and U+FFFD dropped
    /// (<see cref="HuggingFaceCharacters.CleanTextRemoves"/>), and every other white space character (tab, line breaks, NBSP, ...) made ' '.
    /// </summary>
    private static AlignedText CleanText(AlignedText text) => PerCodePoint(text, c =>
        HuggingFaceCharacters.CleanTextRemoves(c) ? "" : c != ' ' && c < 0x10000 && char.IsWhiteSpace((char)c) ? " " : null);

    /// <summary>BertNormalizer's <c>handle_chinese_chars</c>: a space on either side of each CJK ideograph (<see cref="HuggingFaceCharacters.IsChinese"/>), so that each is a word.</summary>
    private static AlignedText SpaceChinese(AlignedText text) => PerCodePoint(text, c =>
        HuggingFaceCharacters.IsChinese(c) ? $" {char.ConvertFromUtf32(c)} " : null);

    /// <summary>BertNormalizer's <c>strip_accents</c> after its NFD: nonspacing marks dropped (<see cref="HuggingFaceCharacters.IsNonspacingMark"/>; not spacing or enclosing ones, which <c>StripAccents</c> drops).</summary>
    private static AlignedText StripNonspacingMarks(AlignedText text) => PerCodePoint(text, c => HuggingFaceCharacters.IsNonspacingMark(c) ? "" : null);

    /// <summary>Every combining mark (Mn, Mc, Me, by the library's tables: <see cref="HuggingFaceCharacters.IsCombiningMark"/>) dropped, as Hugging Face's <c>StripAccents</c>.</summary>
    private static AlignedText StripAccents(AlignedText text) => PerCodePoint(text, c => HuggingFaceCharacters.IsCombiningMark(c) ? "" : null);

    /// <summary>Each code point replaced by what <paramref name="replacement"/> gives for it ("" drops it), or kept where it gives null.</summary>
    private static AlignedText PerCodePoint(AlignedText text, Func<int, string?> replacement)
    {
        var built = new AlignedText.Builder(text);
        string s = text.Text;
        for (int i = 0; i < s.Length;)
        {
            int n = char.IsSurrogatePair(s, i) ? 2 : 1;
            if (replacement(n == 2 ? char.ConvertToUtf32(s[i], s[i + 1]) : s[i]) is { } replaced)
            {
                built.Replace(i, i + n, replaced);
            }
            else
            {
                built.Keep(i, i + n);
            }

            i += n;
        }

        return built.Build();
    }

    /// <summary>
    /// Each grapheme (extended grapheme cluster) of fewer than 6 UTF-8 bytes that a key of the map begins, as
    /// that key's replacement; every other grapheme char by char, as Hugging Face's <c>Precompiled</c>
    /// does (so "e\u0301\u0302", 5 bytes, becomes "é", the replacement of its prefix "e\u0301").
    /// </summary>
    private static AlignedText Precompiled(AlignedText text, PrecompiledCharsmap map)
    {
        var built = new AlignedText.Builder(text);
        string s = text.Text;
        for (int at = 0; at < s.Length;)
        {
            int length = StringInfo.GetNextTextElementLength(s, at);
            if (Encoding.UTF8.GetByteCount(s.AsSpan(at, length)) < 6 && map.Replacement(s.AsSpan(at, length)) is { } whole)
            {
                built.Replace(at, at + length, whole);
            }
            else
            {
                for (int i = at; i < at + length;)
                {
                    int n = char.IsSurrogatePair(s, i) ? 2 : 1;
                    if (map.Replacement(s.AsSpan(i, n)) is { } part)
                    {
                        built.Replace(i, i + n, part);
                    }
                    else
                    {
                        built.Keep(i, i + n);
                    }

                    i += n;
                }
            }

            at += length;
        }

        return built.Build();
    }

    private static AlignedText Replace(AlignedText text, Regex pattern, string content)
    {
        var built = new AlignedText.Builder(text);
        int kept = 0;
        for (var match = pattern.Match(text.Text); match.Success; match = match.NextMatch())
        {
            built.Keep(kept, match.Index);
            built.Replace(match.Index, match.Index + match.Length, content);
            kept = match.Index + match.Length;
        }

        built.Keep(kept, text.Text.Length);
        return built.Build();
    }

    /// <summary>White space (Rust's <c>char::is_whitespace</c>, .NET's <see cref="char.IsWhiteSpace(char)"/>: the same set) off either end.</summary>
    private static AlignedText Strip(AlignedText text, bool left, bool right)
    {
        string s = text.Text;
        int from = 0, to = s.Length;
        while (left && from < to && char.IsWhiteSpace(s[from]))
        {
            from++;
        }

        while (right && to > from && char.IsWhiteSpace(s[to - 1]))
        {
            to--;
        }

        var built = new AlignedText.Builder(text);
        built.Keep(from, to);
        return built.Build();
    }

    /// <summary>
    /// Hugging Face's <c>Nmt</c> (older T5 files' first step): ASCII and C1 control characters dropped
    /// (U+0001 to U+0008, U+000B, U+000E to U+001F, U+007F, U+008F, U+009F), and tabs, line breaks, form
    /// feeds, U+1680, the zero-width characters U+200B to U+200F, U+2028, U+2029, '▁', U+FEFF and U+FFFD made spaces.
    /// </summary>
    private static AlignedText Nmt(AlignedText text)
    {
        var built = new AlignedText.Builder(text);
        string s = text.Text;
        for (int i = 0; i < s.Length; i++)
        {
            switch (s[i])
            {
                case (>= '\u0001' and <= '\u0008') or '\u000B' or (>= '\u000E' and <= '\u001F') or '\u007F' or '\u008F' or '\u009F':
                    break;
                case '\t' or '\n' or '\f' or '\r' or '\u1680' or (>= '\u200B' and <= '\u200F') or '\u2028' or '\u2029' or '\u2581' or '\uFEFF' or '\uFFFD':
                    built.Replace(i, i + 1, " ");
                    break;
                default:
                    built.Keep(i, i + 1);
                    break;
            }
        }

        return built.Build();
    }

    /// <summary>
    /// Each code point's full lowercase mapping, without context, as Hugging Face's Lowercase: .NET's
    /// invariant simple mapping, except U+0130 (İ), the one code point whose full mapping is two
    /// (i and U+0307 COMBINING DOT ABOVE) and which invariant casing leaves as it is.
    /// </summary>
    internal static string Lowercase(string text) => text.ToLowerInvariant().Replace("\u0130", "i\u0307", StringComparison.Ordinal);

    /// <summary><see cref="Lowercase(string)"/>, each lowered code point standing for itself.</summary>
    private static AlignedText Lowercase(AlignedText text)
    {
        string lowered = Lowercase(text.Text);
        if (!text.Aligned || lowered == text.Text)
        {
            return text.Aligned ? text : new(lowered, null, null);
        }

        var built = new AlignedText.Builder(text);
        for (int i = 0; i < text.Text.Length;)
        {
            int n = char.IsSurrogatePair(text.Text, i) ? 2 : 1;
            built.Replace(i, i + n, Lowercase(text.Text.Substring(i, n)));
            i += n;
        }

        return built.Build();
    }

    public override AlignedText Apply(string original, bool track)
    {
        var text = AlignedText.Of(original, track);
        foreach (var (_, apply) in _steps)
        {
            text = apply(text);
        }

        return text;
    }
}
