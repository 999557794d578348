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
/// <c>Replace</c> (a string or a regular expression), <c>Strip</c>, <c>StripAccents</c>, <c>Nmt</c>, and a
/// <c>Sequence</c> of them (Qwen's tokenizer.json is NFC, Claude's NFKC, T5's a character map and a
/// Replace, ALBERT's seven steps). Other kinds are refused by name rather than skipped. Each step but a
/// Unicode form keeps track of where its chars come from (<see cref="Apply"/>), so that a tokenizer that
/// encodes the normalized text can still count its tokens' bytes of the text as given. On a machine without
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
                steps.Add((type, text => UnicodeForms.Available ? Unaligned(text, UnicodeForms.Normalize(text.Text, form)) : text)); // else Refuses(text) already refused a text it changes
                unicodeForm = type;
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
                throw new InvalidFileException(path, $"has a {type ?? "typeless"} normalizer; gpuinfo reads NFC, NFD, NFKC, NFKD, Lowercase, Precompiled, Replace, Strip, StripAccents and Nmt ones and a Sequence of them.");
        }
    }

    private static bool Flag(JsonNode node, string key) => node[key] is JsonValue v && v.TryGetValue(out bool b) && b;

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

    /// <summary>A Unicode form's result: aligned still where it changed nothing, else no longer.</summary>
    private static AlignedText Unaligned(AlignedText text, string normalized) =>
        normalized == text.Text ? text : new AlignedText(normalized, null, null);

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

    /// <summary>Every combining mark (Unicode's general category M: Mn, Mc, Me) dropped, as Hugging Face's <c>StripAccents</c>.</summary>
    private static AlignedText StripAccents(AlignedText text)
    {
        var built = new AlignedText.Builder(text);
        string s = text.Text;
        for (int i = 0; i < s.Length;)
        {
            int n = char.IsSurrogatePair(s, i) ? 2 : 1;
            if (CharUnicodeInfo.GetUnicodeCategory(n == 2 ? char.ConvertToUtf32(s[i], s[i + 1]) : s[i])
                is not (UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark))
            {
                built.Keep(i, i + n);
            }

            i += n;
        }

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
