using ILGPU;
using ILGPU.Algorithms.ScanReduceOperations;

namespace GpuInfo.Kernels;

/// <summary>
/// The heavy part of a Blahut-Arimoto iteration on the device, in float64 over a resident row-major
/// [rows, columns] matrix: the row dot products with a vector (capacity: W·ln q; rate-distortion:
/// A·q and (A∘d)·q from A and d read side by side), and the weighted column sums Σ_i w_i·M[i, j]
/// (the next q). No transcendental function: the host takes the logs and exps (a vector's worth an
/// iteration). Every sum has a fixed order: a row's dot is each thread's strided partial summed by
/// <see cref="GroupMerge.OrderedSum{T, TAdd}"/>, and a column's sum runs over fixed row chunks in row order, the
/// chunks' partials added in chunk order; the bits depend on the launch shape only.
/// </summary>
public static class BlahutArimotoKernel
{
    /// <summary>dots[i] = Σ_j matrix[i, j]·vector[j]; one group per row (coalesced: a group reads its row's consecutive entries).</summary>
    public static void RowDots(ArrayView<double> matrix, ArrayView<double> vector, ArrayView<double> dots, int columns)
    {
        int i = Grid.IdxX;
        long offset = (long)i * columns;
        double acc = 0;
        for (int j = Group.IdxX; j < columns; j += Group.DimX)
        {
            acc += matrix[offset + j] * vector[j];
        }

        acc = GroupMerge.OrderedSum<double, AddDouble>(acc);
        if (Group.IdxX == 0)
        {
            dots[i] = acc;
        }
    }

    /// <summary>
    /// dots[i] = Σ_j matrix[i, j]·vector[j] and weightedDots[i] = Σ_j matrix[i, j]·vector[j]·second[i, j]
    /// (rate-distortion: Z(x) and Z(x)·D(x) from A = e^(-β(d - shift)), d and q); one group per row.
    /// </summary>
    public static void RowDotsWeighted(ArrayView<double> matrix, ArrayView<double> second, ArrayView<double> vector, ArrayView<double> dots, ArrayView<double> weightedDots, int columns)
    {
        int i = Grid.IdxX;
        long offset = (long)i * columns;
        double acc = 0, weighted = 0;
        for (int j = Group.IdxX; j < columns; j += Group.DimX)
        {
            double t = matrix[offset + j] * vector[j];
            acc += t;
            weighted += t * second[offset + j];
        }

        acc = GroupMerge.OrderedSum<double, AddDouble>(acc);
        weighted = GroupMerge.OrderedSum<double, AddDouble>(weighted);
        if (Group.IdxX == 0)
        {
            dots[i] = acc;
            weightedDots[i] = weighted;
        }
    }

    /// <summary>
    /// partials[c, j] = Σ_{i in chunk c, in order} weights[i]·matrix[i, j], one thread per (chunk, column),
    /// adjacent threads on adjacent columns (coalesced); a row of weight 0 is not read.
    /// </summary>
    public static void ColumnSums(Index1D index, ArrayView<double> matrix, ArrayView<double> weights, ArrayView<double> partials, int rows, int columns, int chunkRows)
    {
        int j = index % columns;
        int chunk = index / columns;
        int first = chunk * chunkRows;
        int end = first + chunkRows < rows ? first + chunkRows : rows;
        double acc = 0;
        for (int i = first; i < end; i++)
        {
            double w = weights[i];
            if (w != 0)
            {
                acc += w * matrix[((long)i * columns) + j];
            }
        }

        partials[index] = acc;
    }

    /// <summary>sums[j] = Σ_c partials[c, j], in chunk order.</summary>
    public static void SumChunks(Index1D j, ArrayView<double> partials, ArrayView<double> sums, int chunks, int columns)
    {
        double acc = partials[j];
        for (int c = 1; c < chunks; c++)
        {
            acc += partials[((long)c * columns) + j];
        }

        sums[j] = acc;
    }
}
