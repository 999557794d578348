using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Measures;

/// <summary>
/// Each row's total variation distance ½Σ|p − q| against float64, written once and run per backend
/// by thin subclasses (SIMD CPU and ILGPU CPU always; CUDA and OpenCL when present, skipped
/// otherwise): pairs from near-identical (every entry on the series, where p − q cancels) to
/// unrelated (every entry on the direct form), masked entries on either side, disjoint supports,
/// at a width that splits rows over groups on a GPU; and compare's mean, its standard error and the
/// acceptance rate 1 − TV.
/// </summary>
public abstract class TotalVariationTests(EngineFixture fixture)
{
    private InfoEngine Engine => fixture.Engine;

    /// <summary>Rows and vocabulary of the main check, sized to the backend's speed.</summary>
    protected abstract Shape Shape { get; }

    /// <summary>Few rows and a wide vocabulary (each row split over several groups on a GPU).</summary>
    protected abstract Shape Wide { get; }

    /// <summary>
    /// Base and test rows: the first 4 edge rows (identical; disjoint supports, TV 1; q masking half of
    /// p's entries; both masking the same third), then pairs whose noise runs from 1e-4 to 3 logits.
    /// </summary>
    internal static (float[] P, float[] Q) Pairs(TestData data, int rows, int vocab)
    {
        var p = data.Logits(rows, vocab);
        var q = new float[p.Length];
        for (int r = 0; r < rows; r++)
        {
            double noise = r < 4 ? 0 : Math.Pow(10, -4 + (4.5 * r / rows));
            for (int j = 0; j < vocab; j++)
            {
                int i = (r * vocab) + j;
                q[i] = (float)(p[i] + (noise * data.Normal()));
            }
        }

        int half = vocab / 2;
        if (vocab > 1)
        {
            p.AsSpan(vocab, half).Fill(float.NegativeInfinity);
            q.AsSpan(vocab + half, vocab - half).Fill(float.NegativeInfinity);
        }

        q.AsSpan(2 * vocab, half).Fill(float.NegativeInfinity);
        p.AsSpan(3 * vocab, vocab / 3).Fill(float.NegativeInfinity);
        q.AsSpan(3 * vocab, vocab / 3).Fill(float.NegativeInfinity);
        return (p, q);
    }

    [Theory]
    [InlineData(1.0f)]
    [InlineData(0.7f)]
    [InlineData(2.5f)]
    public void Each_rows_total_variation_matches_float64(float temperature)
    {
        Check(Shape, temperature);
        Check(Wide, temperature);
    }

    private void Check(Shape shape, float temperature)
    {
        var data = new TestData();
        int rows = shape.Rows, vocab = shape.Vocab;
        var (p, q) = Pairs(data, rows, vocab);
        var tv = Poison.Floats(rows);
        var reversed = Poison.Floats(rows);
        Engine.TotalVariation(Logits.Float32(p, vocab), Logits.Float32(q, vocab), tv, temperature);
        Engine.TotalVariation(Logits.Float32(q, vocab), Logits.Float32(p, vocab), reversed, temperature);
        string where = $"{fixture.Device}, {shape}, T {temperature}, {data}";
        for (int r = 0; r < rows; r++)
        {
            var zp = Reference64.Scaled(p.AsSpan(r * vocab, vocab), temperature);
            var zq = Reference64.Scaled(q.AsSpan(r * vocab, vocab), temperature);
            double expected = Reference64.TotalVariation(zp, zq);
            double abs = FloatLimit(zp, zq);
            Tolerance.Close(expected, tv[r], 2e-5, abs, $"row {r} ({where})");
            Tolerance.Close(expected, reversed[r], 2e-5, abs, $"row {r} reversed ({where})");
        }

        Assert.Equal(0f, tv[0]);
        Assert.Equal(1f, tv[1], 5e-6f);
        if (rows > 50)
        {
            // Both forms ran: pairs close enough for the series throughout, and pairs far apart.
            Assert.Contains(tv.Skip(4), v => v < 1e-4);
            Assert.Contains(tv, v => v > 0.3 && v < 1);
        }
    }

    /// <summary>
    /// float32's own limit on a row's TV: each entry's log p − log q is formed from scaled logits and
    /// log-sum-exps as large as their difference, so it carries an absolute error of a few ulp of that
    /// (3e-6 seen where logits 8 apart at T 0.7 leave a TV of 0.11, as much on a GPU-shaped pass).
    /// </summary>
    internal static double FloatLimit(ReadOnlySpan<double> zp, ReadOnlySpan<double> zq)
    {
        double widest = 0;
        for (int j = 0; j < zp.Length; j++)
        {
            if (double.IsFinite(zp[j]) && double.IsFinite(zq[j]))
            {
                widest = Math.Max(widest, Math.Abs(zp[j] - zq[j]));
            }
        }

        return 2e-7 * (1 + widest);
    }

    /// <summary>
    /// Where each side masks the other's whole support, TV is 1 and JS ln 2 to float32's digits at any
    /// width: the SIMD pass once summed such rows in one running float and read 1.00003 and 0.693168
    /// at 131k entries (3e-5 of the mass lost to rounding; now within 3.5e-6 below 1 over 260 rows of 100003).
    /// </summary>
    [Fact]
    public void Disjoint_supports_are_as_far_apart_as_can_be()
    {
        var data = new TestData();
        int rows = Wide.Rows, vocab = Wide.Vocab;
        var p = data.Logits(rows, vocab);
        var q = data.Logits(rows, vocab);
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < vocab; j++)
            {
                // Stripes of every width from 1 to 4096, so that blocks hold both sides' entries.
                bool toP = ((j >> (r % 13)) & 1) == 0;
                (toP ? q : p)[(r * vocab) + j] = float.NegativeInfinity;
            }
        }

        var tv = Poison.Floats(rows);
        var js = Poison.Floats(rows);
        Engine.Compare(Logits.Float32(p, vocab), Logits.Float32(q, vocab), new ComparisonAccumulator(),
            perRow: new ComparisonRows { TotalVariation = tv, JensenShannon = js });
        for (int r = 0; r < rows; r++)
        {
            Tolerance.Close(1, tv[r], 5e-6, 0, $"TV row {r} ({fixture.Device}, {Wide}, {data})");
            Tolerance.Close(Math.Log(2), js[r], 5e-6, 0, $"JS row {r} ({fixture.Device}, {Wide}, {data})");
        }
    }

    [Fact]
    public void A_vocabulary_of_one_is_zero()
    {
        var tv = Poison.Floats(3);
        Engine.TotalVariation(Logits.Float32([1.5f, -40f, 1e30f], 1), Logits.Float32([-3f, 2f, -1e30f], 1), tv);
        Assert.Equal(new float[3], tv);
    }

    [Theory]
    [InlineData(1.0f)]
    [InlineData(0.8f)]
    public void Compare_reports_the_mean_its_error_and_the_acceptance_rate(float temperature)
    {
        var data = new TestData();
        int rows = Shape.Rows, vocab = Shape.Vocab;
        var (p, q) = Pairs(data, rows, vocab);
        var y = data.Targets(rows, vocab, ignoredFraction: 0.2);
        var totals = new ComparisonAccumulator();
        var perRow = Poison.Floats(rows);
        Engine.Compare(Logits.Float32(p, vocab), Logits.Float32(q, vocab), totals, new Targets(y), temperature,
            perRow: new ComparisonRows { TotalVariation = perRow });

        var alone = Poison.Floats(rows);
        Engine.TotalVariation(Logits.Float32(p, vocab), Logits.Float32(q, vocab), alone, temperature);
        Assert.Equal(alone, perRow);

        var scored = Enumerable.Range(0, rows).Where(r => y[r] != -100)
            .Select(r => Reference64.TotalVariation(Reference64.Scaled(p.AsSpan(r * vocab, vocab), temperature), Reference64.Scaled(q.AsSpan(r * vocab, vocab), temperature)))
            .ToArray();
        double mean = scored.Average();
        double se = Math.Sqrt(scored.Sum(v => (v - mean) * (v - mean)) / (scored.Length - 1) / scored.Length);
        Assert.True(totals.HasTotalVariation);
        Assert.Equal(scored.Length, totals.Tokens);
        Assert.Equal(mean, totals.MeanTotalVariation, 2e-5 * mean);
        Assert.Equal(se, totals.MeanTotalVariationError, 1e-4 * se);

        // The acceptance rate from its own definition, Σ min(p, q) per token, in float64.
        double accepted = Enumerable.Range(0, rows).Where(r => y[r] != -100).Average(r =>
        {
            var lp = Reference64.LogSoftmax(Reference64.Scaled(p.AsSpan(r * vocab, vocab), temperature));
            var lq = Reference64.LogSoftmax(Reference64.Scaled(q.AsSpan(r * vocab, vocab), temperature));
            return lp.Zip(lq, (a, b) => Math.Exp(Math.Min(a, b))).Sum();
        });
        Assert.Equal(accepted, totals.AcceptanceRate, 2e-5 * (1 - accepted) + 1e-7);

        // Merged from two chunks, the same totals (to the last bits where the chunks' rows split otherwise on a device).
        var first = new ComparisonAccumulator();
        var second = new ComparisonAccumulator();
        int split = rows / 3;
        Engine.Compare(Logits.Float32(p.AsSpan(0, split * vocab).ToArray(), vocab), Logits.Float32(q.AsSpan(0, split * vocab).ToArray(), vocab), first,
            new Targets(y.AsSpan(0, split).ToArray()), temperature);
        Engine.Compare(Logits.Float32(p.AsSpan(split * vocab).ToArray(), vocab), Logits.Float32(q.AsSpan(split * vocab).ToArray(), vocab), second,
            new Targets(y.AsSpan(split).ToArray()), temperature);
        first.Merge(second);
        Assert.Equal(totals.TotalVariationSum, first.TotalVariationSum, 1e-6 * totals.TotalVariationSum);
        Assert.Equal(totals.TotalVariationSquaredSum, first.TotalVariationSquaredSum, 1e-6 * totals.TotalVariationSquaredSum);
    }
}
