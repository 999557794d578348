namespace GpuInfo.Tests.Distributions;

public sealed class BlahutArimotoTests
{
    [Theory]
    [InlineData(0.0)]
    [InlineData(0.05)]
    [InlineData(0.11)]
    [InlineData(0.3)]
    public void Binary_symmetric_channel_capacity_is_one_minus_h(double p)
    {
        var r = BlahutArimoto.Capacity(new[,] { { 1 - p, p }, { p, 1 - p } });
        Assert.True(r.Converged);
        Assert.Equal(1 - ClosedForms.H2(p), r.CapacityBits, 1e-6);
        Assert.Equal(0.5, r.Input[0], 1e-6);
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    [InlineData(0.9)]
    public void Binary_erasure_channel_capacity_is_one_minus_e(double e)
    {
        var r = BlahutArimoto.Capacity(new[,] { { 1 - e, e, 0 }, { 0, e, 1 - e } });
        Assert.Equal(1 - e, r.CapacityBits, 1e-6);
    }

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    public void Z_channel_capacity_matches_its_closed_form(double p)
    {
        // Input 1 is received as 0 with probability p: C = log2(1 + (1-p)·p^(p/(1-p))).
        var r = BlahutArimoto.Capacity(new[,] { { 1, 0 }, { p, 1 - p } });
        Assert.Equal(Math.Log2(1 + (1 - p) * Math.Pow(p, p / (1 - p))), r.CapacityBits, 1e-6);
        Assert.True(r.Input[0] > 0.5, "the Z-channel favours the noiseless input");
    }

    [Theory]
    [InlineData(0.3, 1.5)]
    [InlineData(0.3, 3.0)]
    [InlineData(0.5, 2.0)]
    [InlineData(0.2, 4.0)]
    public void Bernoulli_source_with_hamming_distortion_follows_h_p_minus_h_d(double p, double beta)
    {
        var r = BlahutArimoto.RateDistortion([1 - p, p], new double[,] { { 0, 1 }, { 1, 0 } }, beta);
        Assert.True(r.Converged);
        Assert.Equal(1 / (1 + Math.Exp(beta)), r.Distortion, 1e-6);
        Assert.Equal(ClosedForms.H2(p) - ClosedForms.H2(r.Distortion), r.RateBits, 1e-6);
    }

    /// <summary>
    /// A constant added to a row of distortions changes nothing but the distortion by that constant,
    /// also where e^(-β d) underflows for the whole row (β·d past ~745): it made rate and distortion 0.
    /// </summary>
    [Theory]
    [InlineData(0.3, 4.0, 1.0)]
    [InlineData(0.5, 800.0, 1.0)]
    [InlineData(0.3, 10.0, 100.0)]
    public void A_constant_added_to_the_distortions_only_adds_to_the_distortion(double p, double beta, double offset)
    {
        var plain = BlahutArimoto.RateDistortion([1 - p, p], new double[,] { { 0, 1 }, { 1, 0 } }, beta);
        var shifted = BlahutArimoto.RateDistortion([1 - p, p], new double[,] { { offset, 1 + offset }, { 1 + offset, offset } }, beta);
        Assert.True(shifted.Converged);
        Assert.Equal(plain.RateBits, shifted.RateBits, 1e-9);
        Assert.Equal(plain.Distortion + offset, shifted.Distortion, 1e-9 * (1 + offset));

        // One symbol (p 0.2) far from every reproduction: it costs 0.2 x 80, the other two ~1 bit of their 0.8.
        var far = BlahutArimoto.RateDistortion([0.4, 0.2, 0.4], new double[,] { { 0, 1 }, { 80, 80 }, { 1, 0 } }, 10);
        Assert.Equal(16, far.Distortion, 1e-3);
        Assert.Equal(0.8, far.RateBits, 1e-2);
    }

    [Fact]
    public void Rows_that_do_not_sum_to_one_are_errors_naming_the_row()
    {
        var e = Assert.Throws<InvalidInputException>(() => BlahutArimoto.Capacity(new[,] { { 0.5, 0.5 }, { 0.3, 0.6 } }));
        Assert.Equal(1, e.Row);
        Assert.Throws<InvalidInputException>(() => BlahutArimoto.Capacity(new[,] { { 1.5, -0.5 } }));
        Assert.Throws<InvalidInputException>(() => BlahutArimoto.RateDistortion([0.5, -0.5], new double[,] { { 0, 1 }, { 1, 0 } }, 1));
        Assert.Throws<ArgumentException>(() => BlahutArimoto.RateDistortion([0.5, 0.5], new double[,] { { 0, 1 } }, 1));
    }
}
