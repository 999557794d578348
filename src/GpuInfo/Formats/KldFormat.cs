using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;

namespace GpuInfo.Formats;

/// <summary>
/// llama.cpp's base log-probabilities file (<c>llama-perplexity --kl-divergence-base F.kld</c>):
/// the magic <c>_logits_</c>, uint32 n_ctx, int32 n_vocab, int32 n_chunk, the n_chunk·n_ctx int32
/// tokens, then for each chunk n_ctx − 1 − n_ctx/2 rows (positions n_ctx/2 … n_ctx − 2, each
/// predicting the next token), each row a float32 scale, a float32 min log-prob and n_vocab
/// uint16 q (padded to an even count), with log p = scale·q + min. The writer caps each row 16 nats
/// below its max: q = 0 then stands for everything at or below the cap. The layout follows
/// llama.cpp's tools/perplexity/perplexity.cpp (read to learn the format; nothing copied).
/// </summary>
public sealed record KldFormat(string Path, int Context, int Vocab, int Chunks, int[] Tokens, long DataOffset)
{
    public static ReadOnlySpan<byte> Magic => "_logits_"u8;

    private const int HeaderBytes = 8 + 12;

    /// <summary>Rows stored per chunk: positions n_ctx/2 … n_ctx − 2.</summary>
    public int RowsPerChunk => Context - 1 - (Context / 2);

    public long Rows => (long)Chunks * RowsPerChunk;

    /// <summary>uint16 values per stored row: 4 for scale and min, then the vocabulary padded to even.</summary>
    public int RowValues => (2 * ((Vocab + 1) / 2)) + 4;

    public long RowBytes => RowValues * 2L;

    /// <summary>The token row r predicts: that at position n_ctx/2 + r + 1 of its chunk.</summary>
    public int TargetOf(long row)
    {
        long chunk = row / RowsPerChunk, r = row % RowsPerChunk;
        return Tokens[(chunk * Context) + (Context / 2) + r + 1];
    }

    /// <summary>Whether a file starts with the .kld magic.</summary>
    public static bool Sniff(string path)
    {
        try
        {
            using var file = FileAccess.OpenRead(path);
            Span<byte> head = stackalloc byte[8];
            return FileAccess.ReadAtMost(file, head, 0) == 8 && head.SequenceEqual(Magic);
        }
        catch (InvalidFileException)
        {
            return false;
        }
    }

    /// <summary>Reads and validates the header and tokens; the rows stay on disk.</summary>
    /// <exception cref="InvalidFileException">Wrong magic, impossible sizes, a truncated file, or a token outside the vocabulary.</exception>
    public static KldFormat Read(string path)
    {
        using var file = FileAccess.OpenRead(path);
        Span<byte> head = stackalloc byte[HeaderBytes];
        if (FileAccess.ReadAtMost(file, head, 0) < HeaderBytes || !head[..8].SequenceEqual(Magic))
        {
            throw new InvalidFileException(path, "not a llama.cpp .kld file (the magic _logits_ is missing).");
        }

        uint context = BinaryPrimitives.ReadUInt32LittleEndian(head[8..]);
        int vocab = BinaryPrimitives.ReadInt32LittleEndian(head[12..]), chunks = BinaryPrimitives.ReadInt32LittleEndian(head[16..]);
        if (context is < 2 or > (1 << 24) || vocab < 1 || chunks < 1)
        {
            throw new InvalidFileException(path, $"n_ctx {context}, n_vocab {vocab}, n_chunk {chunks} are not a .kld header (need n_ctx >= 2, n_vocab >= 1, n_chunk >= 1).");
        }

        long tokens = (long)context * chunks;
        var format = new KldFormat(path, (int)context, vocab, chunks, [], HeaderBytes + (tokens * 4));
        long expected = format.DataOffset + (format.Rows * format.RowBytes);
        if (tokens > int.MaxValue / 4 || file.Length != expected)
        {
            throw new InvalidFileException(path, file.Length < expected
                ? $"truncated: n_ctx {context}, n_vocab {vocab}, n_chunk {chunks} need {expected} bytes, the file has {file.Length}."
                : $"{file.Length - expected} bytes more than n_ctx {context}, n_vocab {vocab}, n_chunk {chunks} account for ({expected}).");
        }

        var ids = new int[tokens];
        FileAccess.ReadExactly(file, MemoryMarshal.AsBytes(ids.AsSpan()), HeaderBytes, path);
        if (!BitConverter.IsLittleEndian)
        {
            throw new InvalidFileException(path, ".kld files are little-endian; this machine is not.");
        }

        for (long i = 0; i < ids.Length; i++)
        {
            if ((uint)ids[i] >= (uint)vocab)
            {
                throw new InvalidFileException(path, $"token {i} is {ids[i]}, outside the vocabulary of {vocab}.");
            }
        }

        return format with { Tokens = ids };
    }

    /// <summary>
    /// Dequantizes one stored row into log-probabilities. Where the writer capped the row (scale =
    /// 16/65535), q = 0 stands for the n entries at or below the cap, whose probabilities the file
    /// does not keep: they are read as sharing the cap's probability, log p = cap − ln n, so that
    /// together they weigh what one entry at the cap would (at most e^-16 of the row's top
    /// probability) and every value stays finite; the entry at <paramref name="keep"/> (the target),
    /// when capped, is read at the cap, as llama.cpp's NLL reads it.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Dequantize(ReadOnlySpan<ushort> stored, Span<float> destination, int keep)
    {
        var scaleMin = MemoryMarshal.Cast<ushort, float>(stored[..4]);
        float scale = scaleMin[0], min = scaleMin[1];
        var q = stored.Slice(4, destination.Length);
        // max − (max − 16) rounds in float32, so a capped row's scale is 16/65535 give or take an ulp;
        // an uncapped row's range is below 16 nats, and its one q = 0 entry (its minimum) is then within
        // rounding of the cap anyway.
        bool capped = scale >= 16f / 65535f * 0.9999f;
        int below = capped ? q.Count((ushort)0) : 1;
        float shared = below > 1 ? min - MathF.Log(below) : min;
        var vScale = new Vector<float>(scale);
        var vMin = new Vector<float>(min);
        var floor = new Vector<float>(shared);
        int i = 0;
        for (; i <= q.Length - Vector<ushort>.Count; i += Vector<ushort>.Count)
        {
            var raw = new Vector<ushort>(q[i..]);
            Vector.Widen(raw, out var low, out var high);
            var zero = Vector.AsVectorInt16(Vector.Equals(raw, Vector<ushort>.Zero));
            Vector.Widen(zero, out var zeroLow, out var zeroHigh); // sign-extends the all-ones masks
            // q <= 65535 fits a signed int: the signed conversion is one instruction, the unsigned one is not.
            var a = Vector.FusedMultiplyAdd(Vector.ConvertToSingle(Vector.AsVectorInt32(low)), vScale, vMin);
            var b = Vector.FusedMultiplyAdd(Vector.ConvertToSingle(Vector.AsVectorInt32(high)), vScale, vMin);
            Vector.ConditionalSelect(Vector.AsVectorSingle(zeroLow), floor, a).CopyTo(destination[i..]);
            Vector.ConditionalSelect(Vector.AsVectorSingle(zeroHigh), floor, b).CopyTo(destination[(i + Vector<uint>.Count)..]);
        }

        for (; i < q.Length; i++)
        {
            destination[i] = q[i] == 0 ? shared : MathF.FusedMultiplyAdd(q[i], scale, min);
        }

        if (capped && q[keep] == 0)
        {
            destination[keep] = min;
        }
    }

    /// <summary>
    /// Writes a .kld file as llama.cpp does from a model's logits at every position of n_chunk
    /// sequences of n_ctx tokens: for each chunk, the rows of positions n_ctx/2 … n_ctx − 2.
    /// </summary>
    /// <param name="logitsRow">The logits of (chunk, position) into the given span.</param>
    public static void Write(string path, int context, int vocab, ReadOnlySpan<int> tokens, Action<int, int, Span<float>> logitsRow)
    {
        int chunks = tokens.Length / context;
        if (context < 2 || tokens.Length % context != 0 || chunks < 1)
        {
            throw new ArgumentException($"tokens ({tokens.Length}) must be whole chunks of n_ctx {context} >= 2.", nameof(tokens));
        }

        int[] ids = tokens.ToArray();
        AtomicFile.Write(path, stream => WriteBody(stream, context, vocab, chunks, ids, logitsRow), 1 << 20);
    }

    private static void WriteBody(FileStream stream, int context, int vocab, int chunks, ReadOnlySpan<int> tokens, Action<int, int, Span<float>> logitsRow)
    {
        Span<byte> head = stackalloc byte[HeaderBytes];
        Magic.CopyTo(head);
        BinaryPrimitives.WriteUInt32LittleEndian(head[8..], (uint)context);
        BinaryPrimitives.WriteInt32LittleEndian(head[12..], vocab);
        BinaryPrimitives.WriteInt32LittleEndian(head[16..], chunks);
        stream.Write(head);
        stream.Write(MemoryMarshal.AsBytes(tokens));
        var logits = new float[vocab];
        var row = new ushort[(2 * ((vocab + 1) / 2)) + 4];
        for (int c = 0; c < chunks; c++)
        {
            for (int position = context / 2; position < context - 1; position++)
            {
                logitsRow(c, position, logits);
                Quantize(logits, row);
                stream.Write(MemoryMarshal.AsBytes(row.AsSpan()));
            }
        }
    }

    /// <summary>llama.cpp's row quantization: cap 16 nats below the max, 65535 steps from the cap to the max.</summary>
    private static void Quantize(ReadOnlySpan<float> logits, Span<ushort> row)
    {
        float max = logits[0], lowest = logits[0];
        foreach (float v in logits)
        {
            max = Math.Max(max, v);
            lowest = Math.Min(lowest, v);
        }

        lowest = Math.Max(lowest, max - 16);
        double sum = 0;
        foreach (float v in logits)
        {
            sum += MathF.Exp(v - max);
        }

        float logSumExp = (float)Math.Log(sum);
        float scale = (max - lowest) / 65535f;
        var header = MemoryMarshal.Cast<ushort, float>(row[..4]);
        header[0] = scale;
        header[1] = lowest - max - logSumExp;
        row[4..].Clear();
        if (scale != 0)
        {
            float inverse = 1 / scale;
            for (int i = 0; i < logits.Length; i++)
            {
                row[4 + i] = logits[i] > lowest ? (ushort)Math.Clamp((int)MathF.Round(inverse * (logits[i] - lowest), MidpointRounding.ToEven), 0, 65535) : (ushort)0;
            }
        }
    }
}
