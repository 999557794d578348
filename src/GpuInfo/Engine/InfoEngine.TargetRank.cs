using GpuInfo.Backends.Cpu;

namespace GpuInfo;

public sealed partial class InfoEngine
{
    /// <summary>
    /// The rank of each row's target: how many classes have a strictly larger logit (0 when the
    /// target is a maximum; temperature does not change it), -1 for ignored rows. A target is in the
    /// top k when its rank is below k. Computed on the host (SIMD, one read of each row and one to
    /// check it) whatever the device.
    /// </summary>
    /// <exception cref="ArgumentException">Span lengths differ from the row count.</exception>
    /// <exception cref="InvalidInputException">A target is out of range, or a row holds NaN or +inf, or only -inf (a NaN ranked a target first).</exception>
    public void TargetRanks(Logits logits, Targets targets, Span<int> ranks, long ignoreIndex = -100) =>
        TargetRanksCore(logits, targets, ranks, ignoreIndex, rowsChecked: false);

    /// <summary><see cref="TargetRanks"/> of rows a measure's pass has already checked (a corpus run's): no second pass to check them.</summary>
    internal void TargetRanksOfCheckedRows(Logits logits, Targets targets, Span<int> ranks, long ignoreIndex) =>
        TargetRanksCore(logits, targets, ranks, ignoreIndex, rowsChecked: true);

    private unsafe void TargetRanksCore(in Logits logits, in Targets targets, Span<int> ranks, long ignoreIndex, bool rowsChecked)
    {
        int rows = Guard.RowsFitInt(logits.Rows, nameof(logits));
        Guard.Length(ranks, rows, nameof(ranks));
        using var lease = Use();
        var validated = TargetValidator.Validate(targets, rows, logits.Vocab, ignoreIndex);
        try
        {
            fixed (byte* data = &logits.Start)
            fixed (int* r = ranks)
            {
                var view = logits.Pin(data);
                var y = validated;
                nint output = (nint)r;
                try
                {
                    Parallel.For(0, rows, row =>
                    {
                        if (!rowsChecked)
                        {
                            RowValidator.ThrowIfNoDistribution(view, row, nameof(logits));
                        }

                        ((int*)output)[row] = y[row] == TargetValidator.Ignored ? -1 : TargetRank.Of(view, row, y[row]);
                    });
                }
                catch (AggregateException e)
                {
                    throw RowValidator.FirstRow(e);
                }
            }
        }
        finally
        {
            TargetValidator.Return(validated);
        }
    }
}
