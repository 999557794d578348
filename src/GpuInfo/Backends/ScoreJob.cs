using GpuInfo.Kernels;

namespace GpuInfo.Backends;

/// <summary>
/// One single-input pass over pinned memory. Output addresses of 0 are not requested, except
/// <see cref="Lse"/>, which is always written (a non-finite value marks an invalid row).
/// </summary>
internal readonly record struct ScoreJob
{
    public RowsView Logits { get; init; }

    /// <summary>int32 targets, validated; 0 when there are none.</summary>
    public nint Targets { get; init; }

    /// <summary>float32 class weights of length vocab; 0 when unweighted.</summary>
    public nint Weights { get; init; }

    public CrossEntropyParams Ce { get; init; }

    public nint Lse { get; init; }

    public nint Entropy { get; init; }

    /// <summary>Per-row cross-entropy (needs targets).</summary>
    public nint Loss { get; init; }

    /// <summary>int32 argmax per row.</summary>
    public nint ArgMax { get; init; }

    /// <summary>float32 probability of the argmax per row (the top-1 confidence).</summary>
    public nint Confidence { get; init; }

    /// <summary>float32 Brier score against the target per row (needs <see cref="Loss"/>; 0 for ignored rows).</summary>
    public nint Brier { get; init; }

    /// <summary>float32 gradient [rows, vocab]; may equal the logits' address (in place, float32 only).</summary>
    public nint Gradient { get; init; }

    public long Rows => Logits.Rows;

    public ScoreJob Slice(long first, long rows) => this with
    {
        Logits = Logits.Slice(first, rows),
        Targets = Offset(Targets, first, 4),
        Lse = Offset(Lse, first, 4),
        Entropy = Offset(Entropy, first, 4),
        Loss = Offset(Loss, first, 4),
        ArgMax = Offset(ArgMax, first, 4),
        Confidence = Offset(Confidence, first, 4),
        Brier = Offset(Brier, first, 4),
        Gradient = Offset(Gradient, first, (long)Logits.Vocab * 4),
    };

    internal static nint Offset(nint address, long first, long stride) =>
        address == 0 ? 0 : address + (nint)(first * stride);
}
