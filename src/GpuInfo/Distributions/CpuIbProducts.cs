using System.Numerics.Tensors;

namespace GpuInfo;

/// <summary>
/// IB products in float64 on the CPU: C = A·Bᵀ with both operands row-major along the summed axis,
/// blocked over that axis so a block of B stays in L2 while every row of A passes over it, with
/// TensorPrimitives.Dot (vectorised) as the inner kernel. Parallel over rows of A;
/// each output is summed by one thread in a fixed order, so results are reproducible.
/// </summary>
internal sealed class CpuIbProducts : IIbProducts
{
    private const int Block = 1024;

    private readonly double[] _pyx;
    private readonly double[] _pxyT;
    private readonly int _x;
    private readonly int _y;
    private readonly ParallelOptions _parallel;

    public CpuIbProducts(JointDistribution joint, int maxDegreeOfParallelism = 0)
    {
        _x = joint.X;
        _y = joint.Y;
        _pyx = new double[_x * _y];
        _pxyT = new double[_y * _x];
        for (int i = 0; i < _x; i++)
        {
            for (int j = 0; j < _y; j++)
            {
                double p = joint.P[i * _y + j];
                _pyx[i * _y + j] = joint.Px[i] > 0 ? p / joint.Px[i] : 0;
                _pxyT[j * _x + i] = p;
            }
        }

        _parallel = new ParallelOptions { MaxDegreeOfParallelism = maxDegreeOfParallelism > 0 ? maxDegreeOfParallelism : Environment.ProcessorCount };
    }

    public void CrossTerms(double[] logDecoder, int clusters, double[] cross) =>
        MultiplyTransposed(_pyx, _x, logDecoder, clusters, _y, cross);

    public void DecoderNumerator(double[] encoderTransposed, int clusters, double[] numerator) =>
        MultiplyTransposed(encoderTransposed, clusters, _pxyT, _y, _x, numerator);

    public void Dispose()
    {
    }

    /// <summary>c[i, j] = Σ_k a[i, k]·b[j, k] for a [m, k], b [n, k], c [m, n].</summary>
    internal void MultiplyTransposed(double[] a, int m, double[] b, int n, int k, double[] c)
    {
        Array.Clear(c, 0, m * n);
        int rowsPerTask = Math.Max(1, m / (_parallel.MaxDegreeOfParallelism * 4));
        Parallel.For(0, (m + rowsPerTask - 1) / rowsPerTask, _parallel, task =>
        {
            int i0 = task * rowsPerTask, i1 = Math.Min(m, i0 + rowsPerTask);
            for (int k0 = 0; k0 < k; k0 += Block)
            {
                int len = Math.Min(Block, k - k0);
                for (int i = i0; i < i1; i++)
                {
                    var row = a.AsSpan(i * k + k0, len);
                    var outRow = c.AsSpan(i * n, n);
                    for (int j = 0; j < n; j++)
                    {
                        outRow[j] += TensorPrimitives.Dot(row, b.AsSpan(j * k + k0, len));
                    }
                }
            }
        });
    }
}
