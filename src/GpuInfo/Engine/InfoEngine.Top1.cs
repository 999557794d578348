using System.Buffers;

namespace GpuInfo;

public sealed partial class InfoEngine
{
    /// <summary>Number of rows whose argmax agrees between P and Q (first index on ties).</summary>
    /// <exception cref="ArgumentException">Shapes differ.</exception>
    /// <exception cref="InvalidInputException">A row of either input holds NaN/+inf or is all -inf.</exception>
    public long Top1Agreement(Logits p, Logits q)
    {
        int rows = Guard.RowsFitInt(p.Rows, nameof(p));
        var rent = ArrayPool<int>.Shared.Rent(Math.Max(1, 2 * rows));
        try
        {
            var a = rent.AsSpan(0, rows);
            var b = rent.AsSpan(rows, rows);
            CompareCore(p, q, default, 1f, new CompareSpans { ArgMaxP = a, ArgMaxQ = b });
            long same = 0;
            for (int i = 0; i < rows; i++)
            {
                same += a[i] == b[i] ? 1 : 0;
            }

            return same;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rent);
        }
    }
}
