using System.Text.RegularExpressions;

namespace GpuInfo.Models;

/// <summary>
/// lm-evaluation-harness's <c>wikitext_detokenizer</c> (<c>lm_eval/tasks/wikitext/preprocess_wikitext.py</c>), which its
/// <c>wikitext</c> task applies to each page of WikiText before scoring it: WikiText's spaced-out punctuation
/// (<c>" @-@ "</c>, <c>" , "</c>, <c>"( x )"</c>, <c>"= = Heading = ="</c>) put back as written. The same replacements in the
/// same order, Python's <c>\s</c> (<see cref="TokenBytes.IsSpace"/>) in the patterns, and its quirks kept (a <c>/' 5/</c>
/// becomes the literal <c>/'[0-9]/</c>, as its replacement string is not a pattern). Checked against that function
/// itself (<c>tests/GpuInfo.Tests/Models/make_wikitext_detokenizer.py</c>).
/// </summary>
public static class WikitextDetokenizer
{
    /// <summary>The name <c>--detokenize</c> takes.</summary>
    public const string Name = "wikitext";

    // Python's \s on str (str.isspace), which .NET's \s is not (it leaves out U+001C to U+001F).
    private const string Space = @"[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

    private static readonly Regex SlashQuoteDigit = Make(@"/' [0-9]/");
    private static readonly Regex Parentheses = Make($@"\({Space}*([^)]*?){Space}*\)");
    private static readonly Regex Brackets = Make($@"\[{Space}*([^\]]*?){Space}*\]");
    private static readonly Regex Braces = Make($@"\{{{Space}*([^}}]*?){Space}*\}}");
    private static readonly Regex DoubleQuotes = Make($@"""{Space}*([^""]*?){Space}*""");
    private static readonly Regex SingleQuotes = Make($@"'{Space}*([^']*?){Space}*'");

    // Number separators and punctuation, in the function's order.
    private static readonly (string From, string To)[] Separators =
        [(" @-@ ", "-"), (" @,@ ", ","), (" @.@ ", "."), (" : ", ": "), (" ; ", "; "), (" . ", ". "), (" ! ", "! "), (" ? ", "? "), (" , ", ", ")];

    // Headings' "= =", the degree sign, spaces at line ends, " N " and " 's", in the function's order.
    private static readonly (string From, string To)[] Miscellaneous =
        [("= = = =", "===="), ("= = =", "==="), ("= =", "=="), (" \u00b0 ", "\u00b0"), (" \n", "\n"), ("\n ", "\n"), (" N ", " 1 "), (" 's", "'s")];

    public static string Detokenize(string page)
    {
        ArgumentNullException.ThrowIfNull(page);
        string s = page.Replace("s '", "s'", StringComparison.Ordinal);
        s = SlashQuoteDigit.Replace(s, "/'[0-9]/");
        s = ReplaceEach(s, Separators);
        s = Parentheses.Replace(s, "($1)");
        s = Brackets.Replace(s, "[$1]");
        s = Braces.Replace(s, "{$1}");
        s = DoubleQuotes.Replace(s, "\"$1\"");
        s = SingleQuotes.Replace(s, "'$1'");
        return ReplaceEach(s, Miscellaneous);
    }

    private static string ReplaceEach(string s, (string From, string To)[] replacements)
    {
        foreach (var (from, to) in replacements)
        {
            s = s.Replace(from, to, StringComparison.Ordinal);
        }

        return s;
    }

    private static Regex Make(string pattern) => new(pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled);
}
