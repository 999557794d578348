namespace GpuInfo.Kernels;

/// <summary>What a kernel does with each logit of a slice of one row (see <see cref="SliceReader"/>).</summary>
public interface IColumnFold
{
    void Add(float x, int column);
}
