using System.Numerics.Tensors;

namespace GpuInfo.Backends.Cpu.Blas;

/// <summary>
/// The products without a system BLAS: TensorPrimitives dot products and multiply-adds, parallel
/// over output rows, blocked along the long axis so an operand block stays in cache. Several times
/// slower than a tuned BLAS; used where none is installed (and by tests, to cover both).
/// </summary>
internal sealed class ManagedSgemm(int threads, string why) : Sgemm
{
    private const int Block = 2048;

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
                Parallel.For(0, m, _parallel, i =>
                {
                    var row = new ReadOnlySpan<float>((float*)ap + ((long)i * lda), k);
                    var output = new Span<float>((float*)cp + ((long)i * ldc), n);
                    for (int j = 0; j < n; j++)
                    {
                        output[j] = TensorPrimitives.Dot(row, new ReadOnlySpan<float>((float*)bp + ((long)j * ldb), k));
                    }
                });
            }
        }
    }

    public override void MultiplyTransposedLeft(int m, int n, int k, ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc, bool accumulate = false)
    {
        CheckOperand(k, m, lda, a.Length, nameof(a));
        CheckOperand(k, n, ldb, b.Length, nameof(b));
        CheckOperand(m, n, ldc, c.Length, nameof(c));
        int blocks = (n + Block - 1) / Block;
        unsafe
        {
            fixed (float* pa = a, pb = b, pc = c)
            {
                nint ap = (nint)pa, bp = (nint)pb, cp = (nint)pc;
                Parallel.For(0, (long)m * blocks, _parallel, task =>
                {
                    int i = (int)(task / blocks), j0 = (int)(task % blocks) * Block, width = Math.Min(Block, n - j0);
                    var output = new Span<float>((float*)cp + ((long)i * ldc) + j0, width);
                    if (!accumulate)
                    {
                        output.Clear();
                    }
                    for (int l = 0; l < k; l++)
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
