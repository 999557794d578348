namespace GpuInfo.Tests.Distributions;

public sealed class JointDistributionTests
{
    [Fact]
    public void Uniform_distributions_have_log_sized_entropies_and_no_information()
    {
        var w = new double[4, 8];
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 8; j++)
            {
                w[i, j] = 3.0;
            }
        }

        var p = JointDistribution.FromWeights(w);
        Assert.Equal(2.0, p.EntropyX(), 12);
        Assert.Equal(3.0, p.EntropyY(), 12);
        Assert.Equal(5.0, p.JointEntropy(), 12);
        Assert.Equal(3.0, p.ConditionalEntropyYGivenX(), 12);
        Assert.Equal(0.0, p.MutualInformation(), 12);
        Assert.Equal(5.0 * Math.Log(2), p.JointEntropy(InfoUnit.Nats), 12);
    }

    [Fact]
    public void Mutual_information_of_a_binary_symmetric_channel_with_uniform_input_is_one_minus_h()
    {
        var p = ClosedForms.Dsbs(0.11);
        Assert.Equal(1 - ClosedForms.H2(0.11), p.MutualInformation(), 12);
        Assert.Equal(p.EntropyY() - p.ConditionalEntropyYGivenX(), p.MutualInformation(), 12);
    }

    /// <summary>
    /// Probabilities below 1e-154, whose products p(x)·p(y) underflow to 0: I(X;Y) was ∞ (log(p/0)),
    /// and an IB over a subnormal p(x) stopped on a division by zero (1/p(x) overflowed, and 0·∞ is NaN).
    /// </summary>
    [Theory]
    [InlineData(1e-170)]
    [InlineData(1e-310)]
    public void Tiny_probabilities_keep_the_information_finite(double tiny)
    {
        var p = JointDistribution.FromWeights(new[,] { { tiny, 0 }, { 0, 1 } });
        // I = tiny·log(1/tiny) + 1·log(1/(1 − tiny)), in nats; the second term is tiny too (in float64, 0).
        double expected = tiny * -Math.Log(tiny);
        Assert.Equal(1, p.MutualInformation(InfoUnit.Nats) / expected, 12);

        using var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        var ib = engine.InformationBottleneck(JointDistribution.FromWeights(new[,] { { tiny }, { 1 } }), new IbOptions { Beta = 5, Clusters = 2, Seed = 3 });
        Assert.Equal(0, ib.IxyBits);
        Assert.True(ib.ItyBits == 0 && ib.IxtBits >= 0 && ib.IxtBits < 1e-9, $"I(T;Y) {ib.ItyBits}, I(X;T) {ib.IxtBits}");
    }

    [Fact]
    public void Bad_weights_raise_errors_naming_the_entry()
    {
        var e = Assert.Throws<InvalidInputException>(() => JointDistribution.FromWeights(new[,] { { 0.5, 0.1 }, { -0.2, 0.6 } }));
        Assert.Equal(1, e.Row);
        Assert.Contains("[1, 0]", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidInputException>(() => JointDistribution.FromWeights(new[,] { { double.NaN } }));
        Assert.Throws<ArgumentException>(() => JointDistribution.FromWeights(new double[2, 2]));

        // Rows are checked in parallel; the error still names the first bad entry in row-major order.
        var many = new double[300, 50];
        for (int i = 0; i < 300; i++)
        {
            for (int j = 0; j < 50; j++)
            {
                many[i, j] = 1;
            }
        }

        (many[250, 3], many[120, 40], many[120, 7]) = (-1, double.PositiveInfinity, double.NaN);
        e = Assert.Throws<InvalidInputException>(() => JointDistribution.FromWeights(many));
        Assert.Equal(120, e.Row);
        Assert.Contains("[120, 7] is NaN", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Marginals_are_the_sums_in_order_over_column_blocks()
    {
        var rng = new Random(Environment.TickCount);
        int x = 7, y = 2500; // more than two 1024-column blocks
        var weights = new double[x, y];
        for (int i = 0; i < x; i++)
        {
            for (int j = 0; j < y; j++)
            {
                weights[i, j] = rng.Next(5) == 0 ? 0 : rng.NextDouble();
            }
        }

        var joint = JointDistribution.FromWeights(weights);
        for (int j = 0; j < y; j++)
        {
            double py = 0;
            for (int i = 0; i < x; i++)
            {
                py += joint.P[i * y + j];
            }

            Assert.Equal(py, joint.Py[j]);
        }

        for (int i = 0; i < x; i++)
        {
            double px = 0;
            for (int j = 0; j < y; j++)
            {
                px += joint.P[i * y + j];
            }

            Assert.Equal(px, joint.Px[i]);
        }

        Assert.Equal(1.0, joint.Px.Sum(), 12);
    }
}
