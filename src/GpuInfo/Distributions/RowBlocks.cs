namespace GpuInfo;

/// <summary>
/// The IB solver's per-row host work (encoder updates, marginals, entropies) over fixed blocks of
/// <see cref="BlockRows"/> rows that run in parallel. A sum combines the blocks' results in block
/// order, so it does not depend on the thread count or the schedule. Single-threaded, the solver's
/// host work took ~142 ms an iteration at 16384 contexts x 256 clusters, ~91 ms on these blocks
/// (IbSolverHostBenchmarks, 2 cores): nothing beside a 5 s CPU iteration, but more than the
/// products should take on a GPU.
/// </summary>
internal static class RowBlocks
{
    public const int BlockRows = 128;

    /// <summary>Runs body(start, count) over [0, rows) in blocks; one block runs inline.</summary>
    public static void For(int rows, Action<int, int> body)
    {
        int blocks = (rows + BlockRows - 1) / BlockRows;
        if (blocks <= 1)
        {
            if (rows > 0)
            {
                body(0, rows);
            }

            return;
        }

        Parallel.For(0, blocks, b => body(b * BlockRows, Math.Min(BlockRows, rows - (b * BlockRows))));
    }

    /// <summary>
    /// Element-wise combination (a sum unless <paramref name="combine"/> says otherwise) of each
    /// block's <paramref name="length"/> results, combined in block order.
    /// </summary>
    public static double[] Sum(int rows, Func<int, int, double[]> block, int length, Func<double, double, double>? combine = null)
    {
        int blocks = (rows + BlockRows - 1) / BlockRows;
        var partials = new double[blocks][];
        For(rows, (start, count) => partials[start / BlockRows] = block(start, count));
        var total = new double[length];
        foreach (var partial in partials)
        {
            for (int k = 0; k < length; k++)
            {
                total[k] = combine is null ? total[k] + partial[k] : combine(total[k], partial[k]);
            }
        }

        return total;
    }
}
