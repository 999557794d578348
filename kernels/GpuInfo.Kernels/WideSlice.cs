namespace GpuInfo.Kernels;

/// <summary>
/// A row slice cut for wide loads: a scalar head up to the first column where a wide load is
/// aligned, whole chunks of <see cref="Width"/> columns [<see cref="BodyBegin"/>,
/// <see cref="BodyEnd"/>), and a scalar tail. Row starts are aligned only when vocab × element
/// size is a multiple of 16 (vocab 50257 rows are not), and slices start anywhere.
/// </summary>
public readonly struct WideSlice
{
    public readonly int Width;
    public readonly int BodyBegin;
    public readonly int BodyEnd;

    /// <param name="phase">The view's phase (<see cref="WideLoad.Phase{T}"/>); -1 reads every column scalar.</param>
    public WideSlice(RowSlice slice, int width, int phase)
    {
        int length = Math.Max(0, slice.End - slice.Begin);
        int head = length;
        if (phase >= 0)
        {
            int past = (int)((phase + slice.RowOffset + slice.Begin) % width);
            head = Math.Min(length, (width - past) % width);
        }

        Width = width;
        BodyBegin = slice.Begin + head;
        BodyEnd = BodyBegin + (length - head) / width * width;
    }
}
