namespace GpuInfo.Corpus;

/// <summary>
/// Buffers for the blocks of successive runs over the same source (an IB's passes, one a
/// iteration): a run's blocks take their buffers from here and give them back when it ends, so the
/// next run writes into memory already touched. With fresh 64 MiB buffers each pass, an IB iteration
/// at 4096 x 50257 x 64 took 35k page faults on the 2-core VM; with these, 26k (the rest went when
/// the solver's own arrays were reused too).
/// </summary>
internal sealed class BlockBuffers
{
    private readonly List<byte[]> _free = [];

    public byte[] Rent(long bytes)
    {
        lock (_free)
        {
            int i = _free.FindIndex(b => b.LongLength >= bytes);
            if (i >= 0)
            {
                var buffer = _free[i];
                _free.RemoveAt(i);
                return buffer;
            }
        }

        return new byte[bytes];
    }

    public void Return(byte[] buffer)
    {
        lock (_free)
        {
            _free.Add(buffer);
        }
    }
}
