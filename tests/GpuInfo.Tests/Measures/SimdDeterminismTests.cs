namespace GpuInfo.Tests.Measures;

/// <summary>
/// The SIMD path is bitwise deterministic: a row's values do not depend on how many rows the call
/// holds (rows in parallel, or a row's vocabulary slices in parallel), on the thread count, or on
/// where inputs and outputs start in memory. Vocabulary 70001 spans two 65536-column slices.
/// </summary>
public sealed class SimdDeterminismTests
{
    private const int Vocab = 70001;
    private const int Rows = 12;

    [Fact]
    public void Each_row_alone_gives_the_bits_of_the_whole_call_for_any_thread_count()
    {
        var data = new Reference.TestData();
        var x = data.Logits(Rows, Vocab);
        var q = data.Perturbed(x, 0.3);
        var y = data.Targets(Rows, Vocab);
        var expected = Measure(new InfoEngineOptions { Device = "cpu" }, x, q, y, 0, Rows);
        foreach (int threads in new[] { 1, 2, 3, 16 })
        {
            var options = new InfoEngineOptions { Device = "cpu", MaxDegreeOfParallelism = threads };
            Assert.Equal(expected, Measure(options, x, q, y, 0, Rows));
            for (int row = 0; row < Rows; row++)
            {
                var alone = Measure(options, x, q, y, row, 1);
                Assert.True(expected.Select(m => m[row]).SequenceEqual(alone.Select(m => m[0])), $"row {row} alone, {threads} threads (seed {data.Seed})");
            }
        }
    }

    [Fact]
    public void Gradient_and_row_values_do_not_depend_on_alignment()
    {
        var data = new Reference.TestData();
        const int rows = 3, vocab = 1003;
        var x = data.Logits(rows, vocab);
        var y = data.Targets(rows, vocab);
        using var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        float[]? reference = null, referenceLse = null;
        for (int offset = 0; offset < 16; offset++)
        {
            var gradient = new float[(rows * vocab) + 16];
            var shifted = new float[(rows * vocab) + 16];
            x.CopyTo(shifted, offset);
            var input = Logits.Float32(shifted.AsSpan(offset, rows * vocab), vocab);
            engine.CrossEntropyWithGradient(input, y, gradient.AsSpan(offset, rows * vocab));
            var lse = new float[rows];
            engine.LogSumExp(input, lse);
            var g = gradient.AsSpan(offset, rows * vocab).ToArray();
            reference ??= g;
            referenceLse ??= lse;
            Assert.True(reference.SequenceEqual(g), $"gradient bits differ at destination offset {offset} (seed {data.Seed})");
            Assert.True(referenceLse.SequenceEqual(lse), $"log-sum-exp bits differ at input offset {offset} (seed {data.Seed})");
        }
    }

    /// <summary>Every per-row output of rows [first, first + count): lse, entropy, loss, KL, JS, a checksum of the gradient's bits.</summary>
    private static List<float[]> Measure(InfoEngineOptions options, float[] x, float[] q, int[] y, int first, int count)
    {
        using var engine = new InfoEngine(options);
        var p = Logits.Float32(x.AsSpan(first * Vocab, count * Vocab), Vocab);
        var pq = Logits.Float32(q.AsSpan(first * Vocab, count * Vocab), Vocab);
        var targets = y.AsSpan(first, count);
        float[] lse = new float[count], entropy = new float[count], loss = new float[count], kl = new float[count], js = new float[count];
        var gradient = new float[count * Vocab];
        engine.LogSumExp(p, lse);
        engine.Entropy(p, entropy, 1.3f);
        engine.CrossEntropyWithGradient(p, targets, gradient, new CrossEntropyOptions { LabelSmoothing = 0.1f, Reduction = Reduction.None }, loss);
        engine.KlDivergence(p, pq, kl);
        engine.JensenShannon(p, pq, js);
        var gradientBits = Enumerable.Range(0, count).Select(r => Checksum(gradient.AsSpan(r * Vocab, Vocab))).ToArray();
        return [lse, entropy, loss, kl, js, gradientBits];
    }

    /// <summary>A row's gradient bits folded into one float-sized value (any changed bit changes it, bar collisions).</summary>
    private static float Checksum(ReadOnlySpan<float> values)
    {
        ulong hash = 14695981039346656037UL;
        foreach (float v in values)
        {
            hash = (hash ^ (uint)BitConverter.SingleToInt32Bits(v)) * 1099511628211UL;
        }

        return BitConverter.Int32BitsToSingle((int)(hash ^ (hash >> 32)) & 0x3FFFFFFF);
    }
}
