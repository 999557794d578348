using System.Buffers.Binary;
using System.Text;

namespace GpuInfo.Models;

/// <summary>
/// SentencePiece's precompiled character map (a model's <c>normalizer_spec.precompiled_charsmap</c>, a
/// tokenizer.json's <c>Precompiled</c> normalizer: nmt_nfkc, as T5's, ALBERT's and XLM-R's models have):
/// the byte size of a Darts double-array trie over UTF-8 keys (4 bytes, little-endian), the trie's
/// units, then the replacements, each ended by a NUL byte, which the trie's values index.
/// </summary>
internal sealed class PrecompiledCharsmap
{
    private readonly uint[] _units;
    private readonly byte[] _replacements;

    /// <exception cref="FormatException">The bytes are not such a map.</exception>
    public PrecompiledCharsmap(ReadOnlySpan<byte> map)
    {
        if (map.Length < 4)
        {
            throw new FormatException($"a precompiled character map of {map.Length} bytes: it begins with its trie's 4-byte size");
        }

        uint trieBytes = BinaryPrimitives.ReadUInt32LittleEndian(map);
        if (trieBytes % 4 != 0 || trieBytes == 0 || trieBytes > map.Length - 4)
        {
            throw new FormatException($"a precompiled character map whose trie is said to take {trieBytes} bytes of its {map.Length - 4}");
        }

        _units = new uint[trieBytes / 4];
        for (int i = 0; i < _units.Length; i++)
        {
            _units[i] = BinaryPrimitives.ReadUInt32LittleEndian(map[(4 + (4 * i))..]);
        }

        _replacements = map[(4 + (int)trieBytes)..].ToArray();
        try
        {
            _ = new UTF8Encoding(false, true).GetString(_replacements);
        }
        catch (DecoderFallbackException)
        {
            throw new FormatException("a precompiled character map whose replacements are not UTF-8");
        }
    }

    /// <summary>
    /// The replacement of the shortest key of the trie that <paramref name="chunk"/>'s UTF-8 begins with, or
    /// null where none does (Hugging Face's <c>spm_precompiled</c>: its first common-prefix result).
    /// </summary>
    /// <exception cref="FormatException">The trie points outside itself or its replacements.</exception>
    public string? Replacement(ReadOnlySpan<char> chunk)
    {
        Span<byte> key = stackalloc byte[Encoding.UTF8.GetMaxByteCount(chunk.Length)];
        return Match(key[..Encoding.UTF8.GetBytes(chunk, key)], longest: false).Replacement;
    }

    /// <summary>
    /// The replacement of the longest key of the trie that <paramref name="utf8"/> begins with, and that
    /// key's length in bytes; (null, 0) where none (SentencePiece's own normalizer: its longest common-prefix result).
    /// </summary>
    /// <exception cref="FormatException">The trie points outside itself or its replacements.</exception>
    public (string? Replacement, int Length) Longest(ReadOnlySpan<byte> utf8) => Match(utf8, longest: true);

    /// <summary>Walks the trie along <paramref name="key"/> (up to a NUL byte, which no key holds): the first key found, or the last.</summary>
    private (string? Replacement, int Length) Match(ReadOnlySpan<byte> key, bool longest)
    {
        long node = Offset(Unit(0));
        (long Leaf, int Length) found = (-1, 0);
        for (int i = 0; i < key.Length && key[i] != 0; i++)
        {
            byte c = key[i];
            node ^= c;
            uint unit = Unit(node);
            if ((unit & ((1u << 31) | 0xFF)) != c)
            {
                break;
            }

            node ^= Offset(unit);
            if (((unit >> 8) & 1) == 1)
            {
                found = (node, i + 1);
                if (!longest)
                {
                    break;
                }
            }
        }

        return found.Leaf >= 0 ? (Value(found.Leaf), found.Length) : (null, 0);
    }

    /// <summary>The replacement the leaf under <paramref name="node"/> indexes.</summary>
    private string Value(long node)
    {
        int start = (int)(Unit(node) & int.MaxValue);
        if (start > _replacements.Length)
        {
            throw new FormatException($"a precompiled character map whose trie points at byte {start} of its {_replacements.Length} of replacements");
        }

        int end = Array.IndexOf(_replacements, (byte)0, start);
        return Encoding.UTF8.GetString(_replacements, start, (end < 0 ? _replacements.Length : end) - start);
    }

    private uint Unit(long index) => index >= 0 && index < _units.Length ? _units[index]
        : throw new FormatException($"a precompiled character map whose trie points at unit {index} of its {_units.Length}");

    private static long Offset(uint unit) => (long)(unit >> 10) << (int)((unit & (1u << 9)) >> 6);
}
