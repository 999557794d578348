using System.Numerics.Tensors;

namespace GpuInfo.Backends.Cpu.Blas;

/// <summary>
/// The products without a system BLAS: TensorPrimitives dot products and multiply-adds, parallel
/// over output rows, blocked along the long axis so an operand block stays in cache, and along the
/// other operand's rows so that the block every thread re-reads stays in cache too (without it, the
/// IB's 1332-row resident chunks made an iteration 20% slower than 333-row ones). Several times
/// slower than a tuned BLAS; used where none is installed (and by tests, to cover both).
/// </summary>
internal sealed class ManagedSgemm(int threads, string why) : Sgemm
{
    private const int Block = 2048;

    /// <summary>Rows of the shared operand per parallel sweep: 256 rows of a 4096-column block are 4 MiB.</summary>
    private const int RowBlock = 256;

    private readonly ParallelOptions _parallel = new() { MaxDegreeOfParallelism = threads > 0 ? threads : Environment.ProcessorCount };

    public override string Name => $"managed SIMD ({why})";

    public override void MultiplyTransposed(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc)
    {
        CheckOperand(m, k, lda, a.Length, nameof(a));
        CheckOperand(n, k, ldb, b.Length, nameof(b));
        CheckOperand(m, n, ldc, c.Length, nameof(c));
        unsafe
        {
            fixed (float* pa = a, pb = b, pc = c)
            {
                nint ap = (nint)pa, bp = (nint)pb, cp = (nint)pc;
                for (int j0 = 0; j0 < n; j0 += RowBlock)
                {
                    int end = Math.Min(n, j0 + RowBlock);
                    Parallel.For(0, m, _parallel, i =>
                    {
                        var row = new ReadOnlySpan<float>((float*)ap + ((long)i * lda), k);
                        var output = new Span<float>((float*)cp + ((long)i * ldc), n);
                        for (int j = j0; j < end; j++)
                        {
                            output[j] = TensorPrimitives.Dot(row, new ReadOnlySpan<float>((float*)bp + ((long)j * ldb), k));
                        }
                    });
                }
            }
        }
    }

    public override void MultiplyTransposedLeft(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate = false)
    {
        CheckOperand(k, m, lda, a.Length, nameof(a));
        CheckOperand(k, n, ldb, b.Length, nameof(b));
        CheckOperand(m, n, ldc, c.Length, nameof(c));
        int blocks = (n + Block - 1) / Block;
        if (k == 0)
        {
            for (int i = 0; i < m && !accumulate; i++)
            {
                c.Slice(i * ldc, n).Clear();
            }

            return;
        }

        unsafe
        {
            fixed (float* pa = a, pb = b, pc = c)
            {
                nint ap = (nint)pa, bp = (nint)pb, cp = (nint)pc;
                for (int l0 = 0; l0 < k; l0 += RowBlock)
                {
                    int end = Math.Min(k, l0 + RowBlock);
                    bool clear = !accumulate && l0 == 0;
                    Parallel.For(0, (long)m * blocks, _parallel, task =>
                    {
                        int i = (int)(task / blocks), j0 = (int)(task % blocks) * Block, width = Math.Min(Block, n - j0);
                        var output = new Span<float>((float*)cp + ((long)i * ldc) + j0, width);
                        if (clear)
                        {
                            output.Clear();
                        }

                        for (int l = l0; l < end; l++)
                        {
                            float w = ((float*)ap)[((long)l * lda) + i];
                            if (w != 0)
                            {
                                TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>((float*)bp + ((long)l * ldb) + j0, width), w, output, output);
                            }
                        }
                    });
                }
            }
        }
    }
}
