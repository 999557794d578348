using System.Text;

namespace GpuInfo.Models;

/// <summary>
/// A text a normalizer made, with the chars of the original text each of its chars comes from:
/// [<see cref="Starts"/>[i], <see cref="Ends"/>[i]). Both are null where that is not tracked, or no
/// longer known (a Unicode form whose result, grapheme by grapheme, is not that of the whole text). A char a step inserts stands for the chars it
/// replaced (all of a grapheme the character map rewrote, all of a match of a Replace), so the spans
/// never decrease and cover every char the steps kept.
/// </summary>
internal readonly record struct AlignedText(string Text, int[]? Starts, int[]? Ends)
{
    public bool Aligned => Starts is not null;

    /// <summary>The text as given: each char its own span, where <paramref name="track"/>.</summary>
    public static AlignedText Of(string text, bool track)
    {
        if (!track)
        {
            return new(text, null, null);
        }

        var starts = new int[text.Length];
        var ends = new int[text.Length];
        for (int i = 0; i < text.Length; i++)
        {
            (starts[i], ends[i]) = (i, i + 1);
        }

        return new(text, starts, ends);
    }

    /// <summary>Where the chars [<paramref name="from"/>, <paramref name="to"/>) came from: the original chars they span (an empty range: where its place is).</summary>
    public (int Start, int End) Span(int from, int to)
    {
        if (to > from)
        {
            return (Starts![from], Ends![to - 1]);
        }

        int at = from < Text.Length ? Starts![from] : Text.Length > 0 ? Ends![^1] : 0;
        return (at, at);
    }

    /// <summary>Builds a text from pieces of another, keeping their spans where the other has them.</summary>
    public sealed class Builder(AlignedText source)
    {
        private readonly StringBuilder _text = new(source.Text.Length);
        private readonly List<int>? _starts = source.Aligned ? new(source.Text.Length) : null;
        private readonly List<int>? _ends = source.Aligned ? new(source.Text.Length) : null;

        /// <summary>The source's chars [<paramref name="from"/>, <paramref name="to"/>) as they are.</summary>
        public void Keep(int from, int to)
        {
            _text.Append(source.Text, from, to - from);
            if (_starts is not null)
            {
                for (int i = from; i < to; i++)
                {
                    _starts.Add(source.Starts![i]);
                    _ends!.Add(source.Ends![i]);
                }
            }
        }

        /// <summary><paramref name="replacement"/> in place of the source's chars [<paramref name="from"/>, <paramref name="to"/>), each of its chars standing for all of them.</summary>
        public void Replace(int from, int to, string replacement)
        {
            _text.Append(replacement);
            if (_starts is not null)
            {
                var (start, end) = source.Span(from, to);
                for (int i = 0; i < replacement.Length; i++)
                {
                    _starts.Add(start);
                    _ends!.Add(end);
                }
            }
        }

        /// <summary>The text built; the source itself where nothing changed.</summary>
        public AlignedText Build()
        {
            string text = _text.ToString();
            return text == source.Text ? source : new(text, _starts?.ToArray(), _ends?.ToArray());
        }
    }
}
