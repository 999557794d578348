namespace GpuInfo.Kernels;

/// <summary>What a kernel does with each column of a slice of a pair of rows (see <see cref="SliceReader"/>).</summary>
public interface IPairColumnFold
{
    void Add(float xp, float xq, int column);
}
