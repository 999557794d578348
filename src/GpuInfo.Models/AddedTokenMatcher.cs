namespace GpuInfo.Models;

/// <summary>
/// Finds a tokenizer's added (special) tokens in a text as Hugging Face's tokenizer does: the leftmost
/// one, and of those starting there the longest, by a walk down a trie of them from each place.
/// </summary>
internal sealed class AddedTokenMatcher
{
    private readonly Node _root = new();

    /// <param name="tokens">Each token's text and id (empty texts are left out).</param>
    public AddedTokenMatcher(IEnumerable<KeyValuePair<string, int>> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        foreach (var (token, id) in tokens)
        {
            if (token.Length == 0)
            {
                continue;
            }

            var node = _root;
            foreach (char c in token)
            {
                node = node.Children.TryGetValue(c, out var child) ? child : node.Children[c] = new Node();
            }

            node.Id = id;
        }
    }

    /// <summary>
    /// The leftmost token at or after <paramref name="start"/>, the longest there: its place, length and
    /// id; At -1 where none. <paramref name="map"/> maps each char of the text before it is compared
    /// (a SentencePiece model's user-defined pieces are found in the text with its spaces as '▁').
    /// </summary>
    public (int At, int Length, int Id) Next(string text, int start, Func<char, char>? map = null)
    {
        if (_root.Children.Count == 0)
        {
            return (-1, 0, 0);
        }

        for (int at = start; at < text.Length; at++)
        {
            var node = _root;
            int length = 0, id = -1;
            for (int i = at; i < text.Length && node.Children.TryGetValue(map is null ? text[i] : map(text[i]), out var child); i++)
            {
                node = child;
                if (node.Id is { } found)
                {
                    (length, id) = (i - at + 1, found);
                }
            }

            if (length > 0)
            {
                return (at, length, id);
            }
        }

        return (-1, 0, 0);
    }

    private sealed class Node
    {
        public Dictionary<char, Node> Children { get; } = [];

        public int? Id { get; set; }
    }
}
