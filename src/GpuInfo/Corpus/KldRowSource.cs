using System.Runtime.InteropServices;
using GpuInfo.Formats;
using Microsoft.Win32.SafeHandles;

namespace GpuInfo.Corpus;

/// <summary>
/// A llama.cpp <c>.kld</c> file (<see cref="KldFormat"/>) as a source: its stored rows as float32
/// log-probabilities, each scoring the token it predicts (the file's own tokens are the targets).
/// </summary>
/// <remarks>
/// How rows are read: log p = scale·q + min, dequantized exactly. In rows the writer capped 16 nats
/// below their max, q = 0 stands for the n entries at or below the cap: they are read as sharing the
/// cap's probability (log p = cap − ln n; together one entry's worth, at most e^-16 of the top
/// probability), so that values stay finite and a KL between two .kld files is finite, while
/// llama.cpp's KL skips them; the target's entry, when capped, is read at the cap, as llama.cpp's
/// NLL reads it. Every measure then takes the softmax of the row, i.e. renormalises it: the stored
/// log-probabilities sum to 1 only up to their quantization (≤ scale/2 = 1.2e-4 nats an entry) and
/// the tail below the cap, and renormalising keeps KL a divergence between two distributions
/// (≥ 0). Figures differ from llama.cpp's by that quantization, the tail, and the renormalisation.
/// </remarks>
public sealed class KldRowSource : RowSource
{
    private readonly SafeFileHandle _handle;
    private ushort[] _stored = [];

    private KldRowSource(KldFormat format, SafeFileHandle handle)
    {
        Format = format;
        _handle = handle;
    }

    public KldFormat Format { get; }

    public override long Rows => Format.Rows;

    public override int Vocab => Format.Vocab;

    public override ScalarType Type => ScalarType.Float32;

    public override RowValueKind Values => RowValueKind.LogProbabilities;

    public override bool HasTargets => true;

    public override string Name => Format.Path;

    /// <exception cref="InvalidFileException">Not a valid .kld file (see <see cref="KldFormat.Read"/>).</exception>
    public static KldRowSource Open(string path)
    {
        var format = KldFormat.Read(path);
        return new KldRowSource(format, File.OpenHandle(path, FileMode.Open, System.IO.FileAccess.Read, FileShare.Read, FileOptions.SequentialScan));
    }

    public override SourceDescription Describe()
    {
        var settings = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["n_ctx"] = Format.Context.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["n_chunk"] = Format.Chunks.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return new SourceDescription("llama-kld", Rows, Vocab, Type, Values,
            [FileFingerprint.Of("logits", Format.Path, Format.DataOffset)], settings);
    }

    /// <summary>Bytes read at a time: a few rows, so that each is dequantized while it is still in L2.</summary>
    private const int PieceBytes = 1 << 20;

    /// <remarks>
    /// Read in pieces of about 1 MiB rather than the whole chunk at once: a 2.1 GB file read and
    /// dequantized a piece at a time took 0.54-0.57 s on the 2-core VM; a 64 MiB chunk at a time took
    /// 0.55-0.77 s to read and 1.2-1.4 s to dequantize (the page-cache copy and the dequantization
    /// each made a trip through memory).
    /// </remarks>
    protected internal override void Read(RowBlock block)
    {
        int values = Format.RowValues;
        int piece = (int)Math.Clamp(PieceBytes / Format.RowBytes, 1, block.Rows);
        if (_stored.Length < (long)piece * values)
        {
            _stored = new ushort[(long)piece * values];
        }

        var rows = MemoryMarshal.Cast<byte, float>(block.Buffer);
        var targets = block.Targets;
        for (int first = 0; first < block.Rows; first += piece)
        {
            int n = Math.Min(piece, block.Rows - first);
            var stored = _stored.AsSpan(0, n * values);
            Formats.FileAccess.ReadExactly(_handle, MemoryMarshal.AsBytes(stored), Format.DataOffset + ((block.FirstRow + first) * Format.RowBytes), Format.Path);
            for (int r = first; r < first + n; r++)
            {
                int target = Format.TargetOf(block.FirstRow + r);
                targets[r] = target;
                var scaleMin = MemoryMarshal.Cast<ushort, float>(stored.Slice((r - first) * values, 4));
                float scale = scaleMin[0], min = scaleMin[1];
                if (!(scale >= 0) || !float.IsFinite(min) || !float.IsFinite(MathF.FusedMultiplyAdd(ushort.MaxValue, scale, min)))
                {
                    // llama.cpp writes the row's (max - min)/65535 and min, finite and the scale never negative: anything else is a damaged row.
                    throw new RowSourceException(Format.Path, block.FirstRow + r, $"its scale {scale} and minimum {min} are not those of log-probabilities (finite, the scale not negative).");
                }

                // Its largest value, min + 65535 scale, is llama.cpp's -log Σ exp(z - max z) <= 0, but for rounding.
                float top = MathF.FusedMultiplyAdd(ushort.MaxValue, scale, min);
                if (top > 1e-3f + (1e-5f * MathF.Abs(min)))
                {
                    throw new RowSourceException(Format.Path, block.FirstRow + r, $"its values reach {top} (minimum {min}, scale {scale}): log-probabilities are at most 0.");
                }

                KldFormat.Dequantize(stored.Slice((r - first) * values, values), rows.Slice(r * Vocab, Vocab), target);
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _handle.Dispose();
        }
    }
}
