namespace GpuInfo.Models;

/// <summary>
/// A byte-level tokenizer.json's normalizer (or none) followed by its ByteLevel pre-tokenizer's
/// <c>add_prefix_space</c>: a space before each run of text between special tokens that does not begin
/// with one, as Hugging Face's ByteLevel adds it to each piece it is given. The space stands for no char
/// of the text as given, so each token's bytes are still counted.
/// </summary>
internal sealed class PrefixSpaceNormalizer(AlignedNormalizer? inner, IReadOnlyDictionary<string, int> specialTokens) : AlignedNormalizer
{
    private readonly AddedTokenMatcher _special = new(specialTokens);

    public override string ToString() => inner is null ? "ByteLevel prefix space" : $"{inner}, ByteLevel prefix space";

    public override string? Refuses(string text) => inner?.Refuses(text);

    public override AlignedText Apply(string original, bool track)
    {
        var text = inner?.Apply(original, track) ?? AlignedText.Of(original, track);
        var built = new AlignedText.Builder(text);
        string s = text.Text;
        for (int start = 0; start <= s.Length;)
        {
            var (at, length, _) = _special.Next(s, start);
            int end = at < 0 ? s.Length : at;
            if (end > start && s[start] != ' ')
            {
                built.Replace(start, start, " ");
            }

            built.Keep(start, end);
            if (at < 0)
            {
                break;
            }

            built.Keep(at, at + length);
            start = at + length;
        }

        return built.Build();
    }
}
