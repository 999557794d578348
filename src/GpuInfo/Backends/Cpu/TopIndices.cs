namespace GpuInfo.Backends.Cpu;

/// <summary>The indices of a row's k largest entries (ties: the lower index first), by one scan with a size-k heap.</summary>
internal static class TopIndices
{
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Of(in RowsView view, long row, Span<int> destination, PriorityQueue<int, (float Value, int Negated)> heap)
    {
        heap.Clear();
        var scratch = BlockLoader.ScratchQ;
        for (int begin = 0; begin < view.Vocab; begin += BlockLoader.BlockSize)
        {
            var x = BlockLoader.Load(view, row, begin, Math.Min(BlockLoader.BlockSize, view.Vocab - begin), scratch);
            for (int i = 0; i < x.Length; i++)
            {
                Offer(heap, destination.Length, x[i], begin + i);
            }
        }

        Drain(heap, destination);
    }

    /// <summary>The same over a float64 row (an IB decoder's q(y|t)); returns how many were found (fewer than asked when the row is shorter).</summary>
    public static int Of(ReadOnlySpan<double> row, Span<int> destination, PriorityQueue<int, (double Value, int Negated)> heap)
    {
        heap.Clear();
        for (int i = 0; i < row.Length; i++)
        {
            Offer(heap, destination.Length, row[i], i);
        }

        int count = heap.Count;
        Drain(heap, destination[..count]);
        return count;
    }

    private static void Offer<T>(PriorityQueue<int, (T Value, int Negated)> heap, int k, T value, int index)
        where T : IComparable<T>
    {
        // The heap's minimum is the entry to drop: smallest value, and among equals the highest index.
        var key = (value, -index);
        if (heap.Count < k)
        {
            heap.Enqueue(index, key);
        }
        else if (heap.TryPeek(out _, out var least) && Comparer<(T, int)>.Default.Compare(key, least) > 0)
        {
            heap.EnqueueDequeue(index, key);
        }
    }

    private static void Drain<T>(PriorityQueue<int, (T Value, int Negated)> heap, Span<int> destination)
    {
        for (int i = heap.Count - 1; i >= 0; i--)
        {
            destination[i] = heap.Dequeue();
        }
    }
}
