namespace GpuInfo.Backends.Cpu.Blas;

/// <summary>
/// The two float32 matrix products the IB over rows needs, as C = op(A)·op(B) (+ C where asked) on
/// row-major operands with leading dimensions (so a column block of a wider matrix is an operand):
/// <see cref="MultiplyTransposed"/> (A·Bᵀ) and <see cref="MultiplyTransposedLeft"/> (Aᵀ·B).
/// <see cref="Create"/> picks a system BLAS when one loads (OpenBLAS, Accelerate, or the library
/// named by GPUINFO_BLAS) and falls back to <see cref="ManagedSgemm"/>; <see cref="Name"/> says which.
/// </summary>
internal abstract class Sgemm
{
    /// <summary>What the products run on, for reports (e.g. "OpenBLAS 0.3.21 (libopenblas.so.0, Cooperlake kernels)").</summary>
    public abstract string Name { get; }

    /// <summary>c[i, j] = Σ_l a[i, l]·b[j, l] for a [m, k] (row stride lda), b [n, k] (ldb), c [m, n] (ldc).</summary>
    public abstract void MultiplyTransposed(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc);

    /// <summary>c[i, j] = Σ_l a[l, i]·b[l, j] (plus c[i, j] when <paramref name="accumulate"/>) for a [k, m] (row stride lda), b [k, n] (ldb), c [m, n] (ldc).</summary>
    public abstract void MultiplyTransposedLeft(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate = false);

    /// <summary>A system BLAS when one loads (and <paramref name="managedOnly"/> is false), else the managed kernels; both use <paramref name="threads"/> threads.</summary>
    public static Sgemm Create(int threads, bool managedOnly = false) =>
        (managedOnly ? null : (Sgemm?)NativeSgemm.TryLoad(threads, out _)) ?? new ManagedSgemm(threads, managedOnly ? "asked for" : NativeSgemm.Missing);

    /// <summary>Throws when an operand is too short for its shape and stride: the products index raw memory.</summary>
    protected static void CheckOperand(int rows, int columns, int ld, int length, string name)
    {
        if (rows < 0 || columns < 0 || ld < columns || (rows > 0 && (long)(rows - 1) * ld + columns > length))
        {
            throw new ArgumentException($"a [{rows}, {columns}] operand with row stride {ld} does not fit in {length} elements.", name);
        }
    }
}
