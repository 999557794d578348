namespace GpuInfo.Backends.Cpu.Blas;

/// <summary>
/// cblas_dgemm from the system BLAS that <see cref="NativeSgemm"/> finds: the float64 products of the
/// IB over a dense joint (<see cref="CpuIbProducts"/>), which otherwise run on managed SIMD dot products.
/// </summary>
internal sealed unsafe class NativeDgemm
{
    private readonly delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void> _dgemm;

    private NativeDgemm(string name, nint dgemm)
    {
        Name = name;
        _dgemm = (delegate* unmanaged<int, int, int, int, int, int, double, double*, int, double*, int, double, double*, int, void>)dgemm;
    }

    /// <summary>The library, e.g. "OpenBLAS 0.3.21 (libopenblas.so.0, Cooperlake kernels)".</summary>
    public string Name { get; }

    /// <summary>The system BLAS's dgemm with <paramref name="threads"/> threads, or null where none loads.</summary>
    public static NativeDgemm? TryLoad(int threads) =>
        NativeSgemm.TryExport("cblas_dgemm", threads, out nint dgemm, out string name) ? new NativeDgemm(name, dgemm) : null;

    /// <summary>c[i, j] = Σ_l a[i, l]·b[j, l] for a [m, k], b [n, k], c [m, n], all row-major and contiguous.</summary>
    public void MultiplyTransposed(int m, int n, int k, ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> c) =>
        Call(NativeSgemm.Trans, m, n, k, a, b, c);

    /// <summary>c[i, j] = Σ_l a[i, l]·b[l, j] for a [m, k], b [k, n], c [m, n], all row-major and contiguous.</summary>
    public void Multiply(int m, int n, int k, ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> c) =>
        Call(NativeSgemm.NoTrans, m, n, k, a, b, c);

    private void Call(int transB, int m, int n, int k, ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> c)
    {
        if (m < 0 || n < 0 || k < 0 || a.Length < (long)m * k || b.Length < (long)n * k || c.Length < (long)m * n)
        {
            throw new ArgumentException($"operands of {a.Length}, {b.Length} and {c.Length} elements do not fit a [{m}, {k}] by [{k}, {n}] product.", nameof(c));
        }

        if (m == 0 || n == 0)
        {
            return;
        }

        if (k == 0)
        {
            c[..(m * n)].Clear();
            return;
        }

        fixed (double* pa = a, pb = b, pc = c)
        {
            _dgemm(NativeSgemm.RowMajor, NativeSgemm.NoTrans, transB, m, n, k, 1.0, pa, k, pb, transB == NativeSgemm.Trans ? k : n, 0.0, pc, n);
        }
    }
}
