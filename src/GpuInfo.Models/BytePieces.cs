namespace GpuInfo.Models;

/// <summary>
/// A SentencePiece-style vocabulary's byte-fallback pieces <c>&lt;0x00&gt;</c> … <c>&lt;0xFF&gt;</c>: the piece
/// of each byte (where the model falls back to bytes and has it) and the byte of each such piece.
/// </summary>
internal sealed class BytePieces
{
    private readonly int[] _idOfByte = new int[256];
    private readonly int[] _byteOfId;

    /// <param name="ids">Each piece's id.</param>
    /// <param name="pieces">The vocabulary's size.</param>
    /// <param name="byteFallback">Whether the model falls back to bytes; without, no piece stands for a byte.</param>
    public BytePieces(IReadOnlyDictionary<string, int> ids, int pieces, bool byteFallback)
    {
        _byteOfId = new int[pieces];
        Array.Fill(_byteOfId, -1);
        for (int b = 0; b < 256; b++)
        {
            _idOfByte[b] = byteFallback && ids.TryGetValue($"<0x{b:X2}>", out int id) ? id : -1;
            if (_idOfByte[b] >= 0)
            {
                _byteOfId[_idOfByte[b]] = b;
            }
        }
    }

    /// <summary>The piece of byte <paramref name="b"/>, or -1.</summary>
    public int IdOf(byte b) => _idOfByte[b];

    /// <summary>Whether every byte of <paramref name="utf8"/> has its piece (Gemma's vocabulary lacks &lt;0x09&gt;).</summary>
    public bool HasAll(byte[] utf8) => Array.TrueForAll(utf8, b => _idOfByte[b] >= 0);

    /// <summary>The byte piece <paramref name="id"/> stands for, or -1 for any other id.</summary>
    public int ByteOf(int id) => id >= 0 && id < _byteOfId.Length ? _byteOfId[id] : -1;
}
