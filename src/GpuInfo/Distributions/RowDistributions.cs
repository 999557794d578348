using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.CompilerServices;
using GpuInfo.Backends.Cpu;
using GpuInfo.Backends.Cpu.Lanes;
using GpuInfo.Corpus;

namespace GpuInfo;

/// <summary>
/// Turns a chunk of rows into float32 distributions p(y|x): a softmax of logits / T, or probability
/// rows checked and divided by their sums. Rows that are not distributions (NaN, +inf, every logit
/// -inf, negative or mis-summed probabilities) throw <see cref="RowSourceException"/> naming the row.
/// Sums run in float64 over float32 blocks, so a row's normalisation is exact to float32 rounding.
/// </summary>
internal static class RowDistributions
{
    /// <summary>How far a probability row's sum may be from 1.</summary>
    public const double SumTolerance = 1e-3;

    private const int SumBlock = 1024;

    /// <summary>Below this e^x is under float32's smallest normal: taken as 0.</summary>
    private const float ExpFloor = -87.33f;

    [ThreadStatic]
    private static float[]? t_shifted;

    /// <summary>
    /// Fills rows [0, block.Rows) of <paramref name="p"/> (row stride = vocab) with values proportional
    /// to the block's distributions (e^(z/T − max), or the probabilities as given) and
    /// <paramref name="inverseSums"/> with 1/Σ of each row, so that p(y|x) = p[r, y]·inverseSums[r]:
    /// the products fold the normalisation into their much smaller operands and results instead of
    /// scaling every entry. With <paramref name="negativeEntropies"/>, also Σ_y p ln p per row, in float64.
    /// A null <paramref name="p"/> overwrites the block's own float32 rows instead
    /// (<see cref="RowBlock.OwnsFloat32Rows"/>): a float32 file's chunk is read once, not copied again.
    /// Only the block's rows [<paramref name="blockRow"/>, + <paramref name="count"/>) (all of them by
    /// default): the i-th goes to row <paramref name="pRow"/> + i of <paramref name="p"/>, its 1/Σ to
    /// <paramref name="inverseSums"/>[<paramref name="sumsRow"/> + i] and its Σ p ln p to
    /// <paramref name="negativeEntropies"/>[i].
    /// </summary>
    public static unsafe void Fill(RowBlock block, ConditionalRows rows, float* p, int pRow, double[] inverseSums, int sumsRow, double[]? negativeEntropies, int workers, int blockRow = 0, int count = -1)
    {
        count = count < 0 ? block.Rows - blockRow : count;
        if (p == null && !block.OwnsFloat32Rows)
        {
            throw new ArgumentException("only a block's own float32 rows can be filled in place.", nameof(p));
        }

        var logits = block.Logits;
        fixed (byte* start = &Unsafe.AsRef(in logits.Start))
        {
            var view = logits.Pin(start);
            nint target = (nint)p;
            int vocab = block.Vocab;
            long first = block.FirstRow;
            float inverseT = (float)(1 / rows.Temperature);
            try
            {
                Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = workers }, i =>
                {
                    int r = blockRow + i;
                    var source = (float*)(view.Data + (nint)(r * view.RowBytes));
                    var row = target == 0 ? new Span<float>(source, vocab) : new Span<float>((float*)target + ((long)(pRow + i) * vocab), vocab);
                    ReadOnlySpan<float> values = row;
                    if (view.Type != ScalarType.Float32)
                    {
                        BlockLoader.LoadRow(view, r, row);
                    }
                    else
                    {
                        values = new ReadOnlySpan<float>(source, vocab);
                    }

                    string? problem = rows.Probabilities
                        ? Probabilities(values, row, out double negH, out inverseSums[sumsRow + i])
                        : Softmax(values, row, inverseT, out negH, out inverseSums[sumsRow + i], negativeEntropies is not null);
                    if (problem is not null)
                    {
                        throw RowSourceException.At(rows.Source, first + r, target: false, problem);
                    }

                    if (negativeEntropies is not null)
                    {
                        negativeEntropies[i] = negH;
                    }
                });
            }
            catch (AggregateException e) when (e.InnerExceptions.OfType<RowSourceException>().MinBy(r => r.Row) is { } row)
            {
                throw row;
            }
        }
    }

    /// <summary>
    /// row ← e^(values·inverseT − max) (values and row may be the same memory), inverseSum = 1/Σ row;
    /// negH = Σ p ln p. Two passes over the row (its max, then the exp), the second from cache.
    /// Returns the problem, or null.
    /// </summary>
    private static string? Softmax(ReadOnlySpan<float> values, Span<float> row, float inverseT, out double negH, out double inverseSum, bool wantEntropy)
    {
        negH = 0;
        inverseSum = 0;
        float max = TensorPrimitives.Max(values);
        if (float.IsNaN(max))
        {
            return "a logit is NaN.";
        }

        if (float.IsPositiveInfinity(max))
        {
            return "a logit is +inf.";
        }

        if (float.IsNegativeInfinity(max))
        {
            return "every logit is -inf: the row is no distribution.";
        }

        // (z − max)·(1/T), the difference in raw units first, as the row kernels do: z·(1/T) − max/T
        // carried the rounding of z/T (|z/T|·2^-24 nats, 6 at T = 1e-8) into every exponent, and the
        // entropy, formed without the exp's fused multiply-add, came out positive.
        Span<float> shifted = default;
        if (wantEntropy)
        {
            if (t_shifted is null || t_shifted.Length < row.Length)
            {
                t_shifted = new float[row.Length];
            }

            shifted = t_shifted.AsSpan(0, row.Length);
            TensorPrimitives.Subtract(values, max, shifted);
            TensorPrimitives.Multiply(shifted, inverseT, shifted);
        }

        double sum = Exp(values, row, inverseT, max);
        if (wantEntropy)
        {
            double dot = 0;
            for (int b = 0; b < row.Length; b += SumBlock)
            {
                int len = Math.Min(SumBlock, row.Length - b);
                dot += TensorPrimitives.Dot(row.Slice(b, len), MaskInfinities(shifted.Slice(b, len)));
            }

            negH = dot / sum - Math.Log(sum);
        }

        inverseSum = 1 / sum;
        return null;
    }

    /// <summary>-inf (a -inf logit, whose probability is exactly 0) as float.MinValue, so that 0·u adds 0 to Σ p·u.</summary>
    private static ReadOnlySpan<float> MaskInfinities(Span<float> shifted)
    {
        TensorPrimitives.Max(shifted, float.MinValue, shifted);
        return shifted;
    }

    private static string? Probabilities(ReadOnlySpan<float> values, Span<float> row, out double negH, out double inverseSum)
    {
        negH = 0;
        inverseSum = 0;
        if (!Unsafe.AreSame(ref MemoryMarshal.GetReference(values), ref MemoryMarshal.GetReference(row)))
        {
            values.CopyTo(row);
        }

        float min = TensorPrimitives.Min(row), max = TensorPrimitives.Max(row);
        if (float.IsNaN(min) || float.IsNaN(max))
        {
            return "a probability is NaN.";
        }

        if (min < 0)
        {
            return $"a probability is negative ({min}).";
        }

        if (float.IsPositiveInfinity(max))
        {
            return "a probability is +inf.";
        }

        double sum = Sum(row);
        if (Math.Abs(sum - 1) > SumTolerance)
        {
            return $"the probabilities sum to {sum:G6}, not 1 (tolerance {SumTolerance}).";
        }

        inverseSum = 1 / sum;
        foreach (float v in row)
        {
            double q = v * inverseSum;
            negH += q > 0 ? q * Math.Log(q) : 0;
        }

        return null;
    }

    /// <summary>
    /// row ← e^((values − max)·scale) (at most 0: max is the largest value; values and row may be the
    /// same memory; the same two roundings as the entropy's exponents) with the fast vector exp of the CPU path (within 1.1 ulp; .NET's
    /// TensorPrimitives.Exp took 2.2 ns an element here, a third of an IB iteration), returning Σ row
    /// in float64 over float32 blocks. Entries below the exp's range (−inf among them) become exactly 0.
    /// </summary>
    private static double Exp(ReadOnlySpan<float> values, Span<float> row, float scale, float max) =>
        Lanes512.IsSupported ? Exp<Lanes512>(values, row, scale, max) : Exp<Lanes256>(values, row, scale, max);

    private static double Exp<TLanes>(ReadOnlySpan<float> values, Span<float> row, float scale, float max)
        where TLanes : struct, ILanes<TLanes>
    {
        ref float v = ref MemoryMarshal.GetReference(values);
        ref float r = ref MemoryMarshal.GetReference(row);
        int n = row.Length, w = TLanes.Count, i = 0;
        var floor = TLanes.Create(ExpFloor);
        var zero = TLanes.Create(0f);
        var scaleLanes = TLanes.Create(scale);
        var maxLanes = TLanes.Create(max);
        double total = 0;
        while (i <= n - w)
        {
            var acc = zero;
            for (int end = Math.Min(n - w, i + SumBlock); i <= end; i += w)
            {
                var x = (TLanes.Load(ref v, (nuint)i) - maxLanes) * scaleLanes;
                var e = TLanes.Select(TLanes.LessThan(x, floor), zero, TLanes.Exp(x));
                TLanes.Store(e, ref r, (nuint)i);
                acc += e;
            }

            total += TLanes.Sum(acc);
        }

        for (; i < n; i++)
        {
            float x = (values[i] - max) * scale;
            row[i] = x < ExpFloor ? 0f : MathF.Exp(x);
            total += row[i];
        }

        return total;
    }

    private static double Sum(ReadOnlySpan<float> row)
    {
        double sum = 0;
        for (int b = 0; b < row.Length; b += SumBlock)
        {
            sum += TensorPrimitives.Sum(row.Slice(b, Math.Min(SumBlock, row.Length - b)));
        }

        return sum;
    }
}
