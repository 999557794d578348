namespace GpuInfo.Samples;

/// <summary>
/// Deterministic synthetic model outputs for demos and benchmarks: Zipf-shaped logits (a few likely
/// tokens, a long tail) with a different token order per row, targets drawn from each row's own
/// softmax, and a "quantized" test model (the base rounded to bf16 plus small noise).
/// </summary>
public sealed class SampleLogits
{
    private SampleLogits(int rows, int vocab, float[] baseLogits, float[] testLogits, int[] targets)
    {
        Rows = rows;
        Vocab = vocab;
        Base = baseLogits;
        Test = testLogits;
        Targets = targets;
    }

    public int Rows { get; }

    public int Vocab { get; }

    /// <summary>Base model logits, row-major [rows, vocab].</summary>
    public float[] Base { get; }

    /// <summary>Test ("quantized") model logits, same shape.</summary>
    public float[] Test { get; }

    /// <summary>One target per row, drawn from softmax(base row).</summary>
    public int[] Targets { get; }

    public static SampleLogits Create(int rows, int vocab, int seed = 20261123, double testNoise = 0.02)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocab, 1);
        if ((long)rows * vocab > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(rows), rows, $"rows x vocab ({(long)rows * vocab}) must fit one array of at most {Array.MaxLength} values; use fewer rows.");
        }

        var baseLogits = new float[(long)rows * vocab];
        var test = new float[baseLogits.Length];
        var targets = new int[rows];
        var zipf = new double[vocab];
        for (int j = 0; j < vocab; j++)
        {
            zipf[j] = 8.0 - 1.1 * Math.Log(j + 1);
        }

        Parallel.For(0, rows, r =>
        {
            var rng = new Random(seed + r * 7919);
            var x = baseLogits.AsSpan(r * vocab, vocab);
            var order = new int[vocab];
            for (int j = 0; j < vocab; j++)
            {
                order[j] = j;
            }

            rng.Shuffle(order);
            for (int j = 0; j < vocab; j++)
            {
                x[order[j]] = (float)(zipf[j] + 0.5 * Normal(rng));
            }

            targets[r] = Sample(x, rng);
            var t = test.AsSpan(r * vocab, vocab);
            for (int j = 0; j < vocab; j++)
            {
                t[j] = BFloat16Bits.ToSingle(BFloat16Bits.FromSingle(x[j])) + (float)(testNoise * Normal(rng));
            }
        });
        return new SampleLogits(rows, vocab, baseLogits, test, targets);
    }

    private static int Sample(ReadOnlySpan<float> x, Random rng)
    {
        double max = double.NegativeInfinity;
        foreach (float v in x)
        {
            max = Math.Max(max, v);
        }

        double total = 0;
        foreach (float v in x)
        {
            total += Math.Exp(v - max);
        }

        double u = rng.NextDouble() * total, acc = 0;
        for (int j = 0; j < x.Length; j++)
        {
            acc += Math.Exp(x[j] - max);
            if (acc >= u)
            {
                return j;
            }
        }

        return x.Length - 1;
    }

    private static double Normal(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
