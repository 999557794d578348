using System.Buffers;
using System.Text;

namespace GpuInfo.Models;

/// <summary>
/// Text from the ids of a SentencePiece-style vocabulary (<see cref="SentencePieceBpe"/>, <see cref="UnigramTokenizer"/>):
/// an added token as its text, a byte-fallback piece as its byte, another piece with its space stand-in
/// ('▁') as a space; the bytes decoded as UTF-8, and the space a dummy prefix put first taken off.
/// </summary>
internal static class PieceDecoder
{
    /// <param name="byteOf">The byte a byte-fallback piece stands for, or -1 for any other id.</param>
    /// <param name="space">The pieces' stand-in for a space, or null where they hold spaces as they are.</param>
    /// <param name="prefixed">Whether encoding put a space before the text (a dummy prefix), which decoding takes off.</param>
    public static OperationStatus Decode(IEnumerable<int> ids, Span<char> destination, out int idsConsumed, out int charsWritten,
        IReadOnlyDictionary<string, int> added, string[] pieces, Func<int, int> byteOf, char? space, bool prefixed)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        var special = added.GroupBy(kv => kv.Value).ToDictionary(g => g.Key, g => g.First().Key);
        idsConsumed = 0;
        foreach (int id in ids)
        {
            if (special.TryGetValue(id, out string? token))
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(token));
            }
            else if (byteOf(id) is >= 0 and var b)
            {
                bytes.Add((byte)b);
            }
            else if (id >= 0 && id < pieces.Length && pieces[id] is not null)
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(space is { } s ? pieces[id].Replace(s, ' ') : pieces[id]));
            }

            idsConsumed++;
        }

        string decoded = Encoding.UTF8.GetString([.. bytes]);
        if (prefixed && decoded.StartsWith(' '))
        {
            decoded = decoded[1..];
        }

        return Write(decoded, idsConsumed, destination, out idsConsumed, out charsWritten);
    }

    /// <summary><paramref name="decoded"/>, the text of <paramref name="ids"/> ids, into <paramref name="destination"/>, or nothing where it does not fit.</summary>
    public static OperationStatus Write(ReadOnlySpan<char> decoded, int ids, Span<char> destination, out int idsConsumed, out int charsWritten)
    {
        if (decoded.Length > destination.Length)
        {
            (charsWritten, idsConsumed) = (0, 0);
            return OperationStatus.DestinationTooSmall;
        }

        decoded.CopyTo(destination);
        (charsWritten, idsConsumed) = (decoded.Length, ids);
        return OperationStatus.Done;
    }
}
