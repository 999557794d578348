namespace GpuInfo.Backends.Cpu;

/// <summary>The indices of a row's k largest entries (ties: the lower index first), by one scan with a size-k heap.</summary>
internal static class TopIndices
{
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void Of(in RowsView view, long row, Span<int> destination, PriorityQueue<int, (float Value, int Negated)> heap)
    {
        int k = destination.Length;
        heap.Clear();
        var scratch = BlockLoader.ScratchQ;
        for (int begin = 0; begin < view.Vocab; begin += BlockLoader.BlockSize)
        {
            var x = BlockLoader.Load(view, row, begin, Math.Min(BlockLoader.BlockSize, view.Vocab - begin), scratch);
            for (int i = 0; i < x.Length; i++)
            {
                // The heap's minimum is the entry to drop: smallest value, and among equals the highest index.
                var key = (x[i], -(begin + i));
                if (heap.Count < k)
                {
                    heap.Enqueue(begin + i, key);
                }
                else if (heap.TryPeek(out _, out var least) && Comparer<(float, int)>.Default.Compare(key, least) > 0)
                {
                    heap.EnqueueDequeue(begin + i, key);
                }
            }
        }

        for (int i = heap.Count - 1; i >= 0; i--)
        {
            destination[i] = heap.Dequeue();
        }
    }
}
