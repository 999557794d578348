namespace GpuInfo.Tests.Statistics;

public sealed class AccumulatorTests
{
    [Fact]
    public void Perplexity_totals_merge_to_the_single_stream()
    {
        var rng = new Random(4);
        var nll = Enumerable.Range(0, 1000).Select(_ => (float)(rng.NextDouble() * 8)).ToArray();
        var whole = new PerplexityAccumulator();
        whole.AddTokens(nll);
        var a = new PerplexityAccumulator();
        var b = new PerplexityAccumulator();
        a.AddTokens(nll.AsSpan(0, 333));
        b.AddTokens(nll.AsSpan(333));
        a.Merge(b);
        double mean = nll.Average(v => (double)v);
        Assert.Equal(1000, a.Tokens);
        Assert.Equal(mean, a.MeanNll, 12);
        Assert.Equal(Math.Exp(mean), a.Perplexity, 9);
        Assert.Equal(mean / Math.Log(2), a.BitsPerToken, 12);
        Assert.Equal(whole.NllSum, a.NllSum, 9);
        Assert.True(double.IsNaN(new PerplexityAccumulator().MeanNll));
    }

    [Theory]
    [InlineData(0, 1.0)]
    [InlineData(100, 9.0)]
    [InlineData(50, 4.5)]
    [InlineData(10, 1.45)]
    [InlineData(99.9, 8.991)]
    public void Percentiles_follow_numpys_linear_rule(double q, double expected)
    {
        // numpy.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 1.5], q) with the default method.
        var values = new float[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 1.5f };
        var sorted = values.Order().ToArray();
        Assert.Equal(expected, Percentiles.OfSorted(sorted, q), 9);
    }

    [Fact]
    public void The_log_histogram_is_within_its_stated_error_and_merges_exactly()
    {
        var rng = new Random(8);
        var values = Enumerable.Range(0, 20_000).Select(_ => Math.Exp(rng.NextDouble() * 20 - 16)).ToArray();
        var whole = new LogHistogram();
        var a = new LogHistogram();
        var b = new LogHistogram();
        for (int i = 0; i < values.Length; i++)
        {
            whole.Add(values[i]);
            (i % 3 == 0 ? a : b).Add(values[i]);
        }

        a.Merge(b);
        var sorted = values.Select(v => (float)v).Order().ToArray();
        foreach (double q in new[] { 0.1, 1, 10, 50, 90, 99, 99.9 })
        {
            double exact = Percentiles.OfSorted(sorted, q);
            Assert.Equal(whole.Percentile(q), a.Percentile(q));
            Assert.True(Math.Abs(a.Percentile(q) - exact) <= LogHistogram.RelativeError * exact * 1.001, $"p{q}: sketch {a.Percentile(q)}, exact {exact}");
        }

        Assert.Equal(values.Min(), a.Percentile(0));
        Assert.Equal(values.Max(), a.Percentile(100));
        a.Add(double.PositiveInfinity);
        Assert.Equal(double.PositiveInfinity, a.Percentile(100));
        Assert.Throws<ArgumentException>(() => a.Add(double.NaN));
    }
}
