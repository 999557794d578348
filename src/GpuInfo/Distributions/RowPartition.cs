namespace GpuInfo;

/// <summary>
/// Rows of a [rows, columns] matrix in at most <see cref="MaxBlocks"/> contiguous blocks of at least
/// <see cref="MinBlockElements"/> entries each, the blocks run in parallel, each adding into its own
/// column accumulator, and the accumulators summed in block order. The partition depends on the shape
/// only, so the sums have the same bits whatever the thread count; its accumulators take at most
/// <see cref="MaxBlocks"/> columns' worth of memory, however many rows.
/// </summary>
internal sealed class RowPartition
{
    public const int MaxBlocks = 32;
    public const int MinBlockElements = 1 << 18;

    private readonly double[][] _accumulators;
    private readonly double[][] _scratch;

    public RowPartition(int rows, int columns)
    {
        Rows = rows;
        Columns = columns;
        long rowsForWork = Math.Max(1, MinBlockElements / Math.Max(1, columns));
        int blocks = (int)Math.Clamp((rows + rowsForWork - 1) / rowsForWork, 1, MaxBlocks);
        BlockRows = (rows + blocks - 1) / blocks;
        Blocks = (rows + BlockRows - 1) / BlockRows;
        _accumulators = new double[Blocks][];
        _scratch = new double[Blocks][];
    }

    public int Rows { get; }

    public int Columns { get; }

    public int Blocks { get; }

    public int BlockRows { get; }

    /// <summary>
    /// Runs row(i, accumulator, scratch) for every row, each block's rows in order into the block's
    /// zeroed accumulator (of <paramref name="sums"/>' length) with the block's own scratch row of
    /// <see cref="Columns"/> values, then writes the accumulators' sum (in block order) to
    /// <paramref name="sums"/>.
    /// </summary>
    public void Accumulate(Action<int, double[], double[]> row, Span<double> sums)
    {
        int length = sums.Length;
        if (Blocks == 1)
        {
            Block(0, length, row);
        }
        else
        {
            Parallel.For(0, Blocks, b => Block(b, length, row));
        }

        _accumulators[0].CopyTo(sums);
        for (int b = 1; b < Blocks; b++)
        {
            System.Numerics.Tensors.TensorPrimitives.Add(sums, _accumulators[b], sums);
        }
    }

    private void Block(int b, int length, Action<int, double[], double[]> row)
    {
        if (_accumulators[b]?.Length != length)
        {
            _accumulators[b] = new double[length];
        }

        var accumulator = _accumulators[b];
        var scratch = _scratch[b] ??= new double[Columns];
        Array.Clear(accumulator);
        int end = Math.Min(Rows, (b + 1) * BlockRows);
        for (int i = b * BlockRows; i < end; i++)
        {
            row(i, accumulator, scratch);
        }
    }
}
