using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace GpuInfo;

/// <summary>A row's weight in the column sums, from its dot products (see <see cref="IBlahutArimotoPass.Pass"/>).</summary>
internal delegate double RowWeight(int row, double dot, double weightedDot);

/// <summary>Makes the pass of a Blahut-Arimoto solve over its matrix (and, for rate-distortion, the distortion beside it).</summary>
internal delegate IBlahutArimotoPass BlahutArimotoPasses(double[,] matrix, double[,]? second, bool[]? skipped);

/// <summary>
/// The heavy part of a Blahut-Arimoto iteration: one pass over a [rows, columns] matrix M that stays
/// where the pass runs (host memory, or uploaded once to a device). <see cref="BlahutArimoto"/> holds
/// the iteration (bounds, stopping rule, fallbacks); an implementation changes only where this runs.
/// </summary>
internal interface IBlahutArimotoPass : IDisposable
{
    /// <summary>Where the pass runs, for the results' Products.</summary>
    string Name { get; }

    /// <summary>
    /// For every row i: dot = Σ_j M[i, j]·vector[j] and, where the pass has a second matrix S,
    /// weightedDot = Σ_j M[i, j]·vector[j]·S[i, j] (else 0); w_i = weight(i, dot, weightedDot); then
    /// sums[j] = Σ_i w_i·M[i, j] over the rows with w_i &gt; 0. A skipped row (given at creation) is
    /// not read: weight(i, 0, 0) is called for it. weight may be called from several threads at
    /// once, each row once. The sums' order is fixed by the shape (and device), not the scheduling.
    /// </summary>
    void Pass(double[] vector, RowWeight weight, double[] sums);

    /// <summary>The pass on the CPU: row dot and column accumulation fused in one read of each row (<see cref="RowPartition"/>'s fixed blocks).</summary>
    static IBlahutArimotoPass Cpu(double[,] matrix, double[,]? second, bool[]? skipped) => new CpuBlahutArimotoPass(matrix, second, skipped);
}

/// <summary>The CPU pass: each row read once an iteration for its dot products and its column accumulation (SIMD, float64).</summary>
internal sealed class CpuBlahutArimotoPass(double[,] matrix, double[,]? second, bool[]? skipped) : IBlahutArimotoPass
{
    private readonly RowPartition _blocks = new(matrix.GetLength(0), matrix.GetLength(1));

    public string Name => "cpu, float64 SIMD";

    public void Pass(double[] vector, RowWeight weight, double[] sums) =>
        _blocks.Accumulate((i, acc, t) =>
        {
            if (skipped?[i] == true)
            {
                weight(i, 0, 0);
                return;
            }

            var row = Row(matrix, i);
            double dot, weightedDot = 0;
            if (second is null)
            {
                dot = TensorPrimitives.Dot(row, vector);
            }
            else
            {
                TensorPrimitives.Multiply(row, vector, t);
                dot = TensorPrimitives.Sum(t);
                weightedDot = TensorPrimitives.Dot(t, Row(second, i));
            }

            double w = weight(i, dot, weightedDot);
            if (w > 0)
            {
                TensorPrimitives.MultiplyAdd(row, w, acc, acc);
            }
        }, sums);

    public void Dispose()
    {
    }

    internal static ReadOnlySpan<double> Row(double[,] matrix, int i) =>
        MemoryMarshal.CreateReadOnlySpan(ref matrix[i, 0], matrix.GetLength(1));
}
