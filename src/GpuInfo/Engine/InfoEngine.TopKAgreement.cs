using GpuInfo.Backends.Cpu;

namespace GpuInfo;

public sealed partial class InfoEngine
{
    /// <summary>
    /// How far two models agree on their k most likely tokens, per row: the overlap |top_k(P) ∩
    /// top_k(Q)| / k, and whether P's top-1 is among Q's top k. Ties go to the lower index.
    /// Computed on the host (one scan of each row with a size-k heap, one to check it) whatever the
    /// device. k larger than the vocabulary counts every class.
    /// </summary>
    /// <exception cref="ArgumentException">Shapes or span lengths differ, or k &lt; 1.</exception>
    /// <exception cref="InvalidInputException">A row of either holds NaN or +inf, or only -inf.</exception>
    public void TopKAgreement(Logits p, Logits q, int k, Span<float> overlap, Span<bool> topOneInTopK) =>
        TopKAgreementCore(p, q, k, overlap, topOneInTopK, rowsChecked: false);

    /// <summary><see cref="TopKAgreement"/> of rows a measure's pass has already checked (a corpus run's): no second pass to check them.</summary>
    internal void TopKAgreementOfCheckedRows(Logits p, Logits q, int k, Span<float> overlap, Span<bool> topOneInTopK) =>
        TopKAgreementCore(p, q, k, overlap, topOneInTopK, rowsChecked: true);

    private unsafe void TopKAgreementCore(in Logits p, in Logits q, int k, Span<float> overlap, Span<bool> topOneInTopK, bool rowsChecked)
    {
        Guard.SameShape(p, q);
        int rows = Guard.RowsFitInt(p.Rows, nameof(p));
        Guard.Length(overlap, rows, nameof(overlap));
        Guard.Length(topOneInTopK, rows, nameof(topOneInTopK));
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        k = Math.Min(k, p.Vocab);
        using var lease = Use();
        fixed (byte* dp = &p.Start)
        fixed (byte* dq = &q.Start)
        fixed (float* o = overlap)
        fixed (bool* t = topOneInTopK)
        {
            var viewP = p.Pin(dp);
            var viewQ = q.Pin(dq);
            nint overlapOut = (nint)o, topOut = (nint)t;
            int kk = k;
            try
            {
                Parallel.For(0, rows, () => (new int[kk], new int[kk], new PriorityQueue<int, (float, int)>(kk + 1)), (row, _, s) =>
                {
                    if (!rowsChecked)
                    {
                        RowValidator.ThrowIfNoDistribution(viewP, row, nameof(p));
                        RowValidator.ThrowIfNoDistribution(viewQ, row, nameof(q));
                    }

                    var (a, b, heap) = s;
                    TopIndices.Of(viewP, row, a, heap);
                    TopIndices.Of(viewQ, row, b, heap);
                    Array.Sort(b);
                    int common = 0;
                    foreach (int i in a)
                    {
                        common += Array.BinarySearch(b, i) >= 0 ? 1 : 0;
                    }

                    ((float*)overlapOut)[row] = (float)common / kk;
                    ((bool*)topOut)[row] = Array.BinarySearch(b, a[0]) >= 0;
                    return s;
                }, _ => { });
            }
            catch (AggregateException e)
            {
                throw RowValidator.FirstRow(e);
            }
        }
    }
}
