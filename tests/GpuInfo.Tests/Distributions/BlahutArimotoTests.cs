using GpuInfo.Tests.Reference;

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

    [Theory]
    [InlineData(0.3, 1.5)]
    [InlineData(0.2, 4.0)]
    public void Rate_distortion_bounds_bracket_the_closed_form(double p, double beta)
    {
        // An extra reproduction at distortion 0.45 from both symbols is never used at the optimum.
        var distortion = new double[,] { { 0, 1, 0.45 }, { 1, 0, 0.45 } };
        var r = BlahutArimoto.RateDistortion([1 - p, p], distortion, beta, tolerance: 1e-10);
        double exact = ClosedForms.H2(p) - ClosedForms.H2(r.Distortion);
        Assert.True(r.Converged);
        Assert.InRange(r.RateBits - r.LowerBoundBits, 0, 1e-10 / Math.Log(2));
        Assert.InRange(exact, r.LowerBoundBits - 1e-13, r.RateBits + 1e-13);

        var early = BlahutArimoto.RateDistortion([1 - p, p], distortion, beta, maxIterations: 3);
        Assert.False(early.Converged);
        Assert.Equal(3, early.Iterations);
        Assert.True(early.RateBits - early.LowerBoundBits > 1e-6, $"after 3 iterations the bounds are {early.LowerBoundBits} and {early.RateBits}");
        Assert.InRange(ClosedForms.H2(p) - ClosedForms.H2(early.Distortion), early.LowerBoundBits - 1e-13, early.RateBits + 1e-13);
    }

    /// <summary>
    /// Capacity's passes (D(x) as Σ W ln W less a dot product with ln q, the next q summed in the same
    /// pass over several blocks of rows) against the iteration written out term by term, on a channel
    /// with zero entries and an output no input reaches.
    /// </summary>
    [Fact]
    public void Capacity_follows_the_textbook_iteration()
    {
        var data = new TestData();
        int nx = 300, ny = 2003, iterations = 40;
        var w = new double[nx, ny];
        for (int i = 0; i < nx; i++)
        {
            double sum = 0;
            for (int j = 0; j < ny; j++)
            {
                sum += w[i, j] = j == 17 || data.Rng.Next(4) == 0 ? 0 : Math.Pow(data.Rng.NextDouble(), 4);
            }

            for (int j = 0; j < ny; j++)
            {
                w[i, j] /= sum;
            }
        }

        var r = Enumerable.Repeat(1.0 / nx, nx).ToArray();
        double lower = 0, upper = 0;
        for (int it = 0; it < iterations; it++)
        {
            var q = new double[ny];
            for (int i = 0; i < nx; i++)
            {
                for (int j = 0; j < ny; j++)
                {
                    q[j] += r[i] * w[i, j];
                }
            }

            var d = new double[nx];
            for (int i = 0; i < nx; i++)
            {
                for (int j = 0; j < ny; j++)
                {
                    d[i] += w[i, j] > 0 ? w[i, j] * Math.Log(w[i, j] / q[j]) : 0;
                }
            }

            double z = Enumerable.Range(0, nx).Sum(i => r[i] * Math.Exp(d[i]));
            (lower, upper) = (Math.Log(z) / Math.Log(2), d.Max() / Math.Log(2));
            r = [.. Enumerable.Range(0, nx).Select(i => r[i] * Math.Exp(d[i]) / z)];
        }

        var result = BlahutArimoto.Capacity(w, tolerance: 0, maxIterations: iterations);
        Assert.False(result.Converged);
        Assert.Equal(lower, result.LowerBoundBits, 1e-12);
        Assert.Equal(upper, result.UpperBoundBits, 1e-12);
        for (int i = 0; i < nx; i++)
        {
            Assert.True(Math.Abs(r[i] - result.Input[i]) <= 1e-10 * r[i], $"{data}: r[{i}] {result.Input[i]}, textbook {r[i]}");
        }
    }

    /// <summary>
    /// Rate-distortion's passes (one read of e^(-β(d - shift)) an iteration, the rate from Z(x) and
    /// D(q' || q) instead of a log per entry, several blocks of rows) against the iteration written
    /// out term by term.
    /// </summary>
    [Fact]
    public void Rate_distortion_follows_the_textbook_iteration()
    {
        var data = new TestData();
        int nx = 257, nh = 1500, iterations = 25;
        double beta = 1.7;
        var p = Enumerable.Range(0, nx).Select(i => i % 50 == 0 ? 0 : data.Rng.NextDouble()).ToArray();
        var dist = new double[nx, nh];
        for (int i = 0; i < nx; i++)
        {
            for (int j = 0; j < nh; j++)
            {
                dist[i, j] = (i == 3 ? 300 : 0) + (5 * data.Rng.NextDouble());
            }
        }

        double total = p.Sum();
        var px = p.Select(v => v / total).ToArray();
        var qh = Enumerable.Repeat(1.0 / nh, nh).ToArray();
        double rate = 0, distortion = 0;
        for (int it = 0; it < iterations; it++)
        {
            var cond = new double[nx, nh];
            var next = new double[nh];
            for (int i = 0; i < nx; i++)
            {
                double z = 0;
                for (int j = 0; j < nh; j++)
                {
                    z += cond[i, j] = qh[j] * Math.Exp(-beta * dist[i, j]);
                }

                for (int j = 0; j < nh; j++)
                {
                    cond[i, j] /= z;
                    next[j] += px[i] * cond[i, j];
                }
            }

            (rate, distortion) = (0, 0);
            for (int i = 0; i < nx; i++)
            {
                for (int j = 0; j < nh; j++)
                {
                    rate += px[i] * cond[i, j] > 0 ? px[i] * cond[i, j] * Math.Log(cond[i, j] / next[j]) : 0;
                    distortion += px[i] * cond[i, j] * dist[i, j];
                }
            }

            qh = next;
        }

        var result = BlahutArimoto.RateDistortion(p, dist, beta, tolerance: 0, maxIterations: iterations);
        Assert.False(result.Converged);
        Assert.Equal(rate / Math.Log(2), result.RateBits, 1e-11);
        Assert.Equal(distortion, result.Distortion, 1e-11 * distortion);
        Assert.InRange(result.LowerBoundBits, 0, result.RateBits);
        for (int j = 0; j < nh; j++)
        {
            Assert.True(Math.Abs(qh[j] - result.Reproduction[j]) <= 1e-10 * qh[j], $"{data}: q[{j}] {result.Reproduction[j]}, textbook {qh[j]}");
        }
    }

    /// <summary>
    /// An unused reproduction's q decays through the subnormals to 0. Where p(x)·q(x̂|x) underflows
    /// while q(x̂|x) does not, the rate's old term p·c·ln(c/q') was 0·∞: 200 iterations of a 300 x 1299
    /// |i - j/4| distortion at β 0.3 reported a NaN rate. The rate no longer takes a log per entry;
    /// here every capped run across the decay must give finite bounds that bracket each other.
    /// </summary>
    [Fact]
    public void Rate_distortion_stays_finite_while_an_unused_reproduction_underflows()
    {
        var distortion = new double[,] { { 0, 1, 3 }, { 1, 0, 3 } };
        for (int cap = 60; cap <= 200; cap++)
        {
            var r = BlahutArimoto.RateDistortion([0.5, 0.5], distortion, 2.0, tolerance: 1e-300, maxIterations: cap);
            Assert.True(double.IsFinite(r.RateBits) && double.IsFinite(r.LowerBoundBits) && r.LowerBoundBits <= r.RateBits,
                $"after {cap} iterations: rate {r.RateBits}, lower bound {r.LowerBoundBits}");
        }
    }

    /// <summary>
    /// Output 2 is reached only through W = 1e-300 from input 2, whose r(x) halves each iteration:
    /// r(2)·W underflows and q(2) is 0 from about iteration 110. Those iterations took D(x) term by term,
    /// +inf for input 2 while r(2) > 0, and r became NaN; ln q(2) is now taken in log space.
    /// </summary>
    [Fact]
    public void Capacity_stays_finite_when_an_output_loses_its_mass_to_underflow()
    {
        var w = new double[,] { { 1, 0, 0 }, { 0, 1, 0 }, { 0.5, 0.5 - 1e-300, 1e-300 } };
        var r = BlahutArimoto.Capacity(w, tolerance: 0, maxIterations: 150);
        Assert.True(r.Input[2] * 1e-300 == 0 && r.Input.All(double.IsFinite), $"r = [{string.Join(", ", r.Input)}]");
        Assert.Equal(1, r.CapacityBits, 1e-12);
        Assert.Equal(1, r.UpperBoundBits, 1e-12);
    }

    /// <summary>
    /// β = 0 is the limit of small β: rate 0 at D_max = min over x̂ of the expected distortion (the
    /// iteration kept its uniform start there, D = 0.5 for a Bernoulli(0.3) source with Hamming
    /// distortion instead of 0.3), the same point as β = 0.5, below the curve's slope at D_max.
    /// </summary>
    [Fact]
    public void Rate_distortion_at_beta_zero_is_the_end_of_the_curve()
    {
        var distortion = new double[,] { { 0, 1, 0.45 }, { 1, 0, 0.45 } };
        var zero = BlahutArimoto.RateDistortion([0.7, 0.3], distortion, 0);
        Assert.True(zero.Converged);
        Assert.Equal(0, zero.RateBits);
        Assert.Equal(0.3, zero.Distortion, 1e-15);
        Assert.Equal([1.0, 0, 0], zero.Reproduction);

        var small = BlahutArimoto.RateDistortion([0.7, 0.3], distortion, 0.5, tolerance: 1e-10);
        Assert.Equal(zero.Distortion, small.Distortion, 1e-6);
        Assert.Equal(0, small.RateBits, 1e-9);
    }

    /// <summary>
    /// Below the curve's slope at D_max the point is rate 0 at D_max exactly, however small β: at β = 1e-14
    /// the iteration's gap was below the tolerance at its uniform start and it stopped there, "converged"
    /// at D = 0.6 for 0.3; at 1e-6 it ran out of iterations. Just above that slope the iteration runs and
    /// leaves D_max (the slope of a Bernoulli(0.3) source's Hamming curve at D = 0.3 is ln(0.7/0.3) = 0.847).
    /// </summary>
    [Theory]
    [InlineData(1e-14)]
    [InlineData(1e-6)]
    [InlineData(0.8)]
    public void Rate_distortion_below_the_slope_at_d_max_is_rate_zero_at_d_max(double beta)
    {
        var distortion = new double[,] { { 0, 1 }, { 1, 0 } };
        var r = BlahutArimoto.RateDistortion([0.7, 0.3], distortion, beta);
        Assert.True(r.Converged);
        Assert.Equal(beta, r.Beta);
        Assert.Equal(0, r.RateBits);
        Assert.Equal(0.3, r.Distortion, 1e-15);

        var above = BlahutArimoto.RateDistortion([0.7, 0.3], distortion, 0.9, tolerance: 1e-12, maxIterations: 1_000_000);
        Assert.True(above.Distortion < 0.3 - 1e-3);
        Assert.True(above.RateBits > 0);
    }

    /// <summary>
    /// A row that sums to 1 + 9e-7 passes the channel check (1e-6), and was used as it came: the
    /// capacity moved by 2.2e-7 bits from the normalised channel's. It must be the normalised channel's.
    /// </summary>
    [Fact]
    public void Capacity_of_a_channel_whose_row_is_off_by_less_than_the_tolerance_is_that_of_the_normalised_channel()
    {
        var w = new double[,] { { 0.89 + 9e-7, 0.11 }, { 0.11, 0.89 } };
        double off = w[0, 0] + w[0, 1];
        var normalised = new double[,] { { w[0, 0] / off, w[0, 1] / off }, { 0.11, 0.89 } };
        var got = BlahutArimoto.Capacity(w);
        var expected = BlahutArimoto.Capacity(normalised);
        Assert.True(got.Converged && expected.Converged);
        Assert.Equal(expected.CapacityBits, got.CapacityBits, 1e-12);
        Assert.Equal(0.89 + 9e-7, w[0, 0]);
    }

    /// <summary>
    /// No iterations returned the start as a result (capacity 0 for 0.531 bits), a tolerance of +inf stopped
    /// at once and said it converged, NaN and negative ones never stopped (0 runs every iteration, by
    /// intent); a source summing to +inf made every p(x) 0.
    /// </summary>
    [Fact]
    public void Stopping_rules_and_sources_that_give_no_result_are_refused_by_name()
    {
        var bsc = new[,] { { 0.9, 0.1 }, { 0.1, 0.9 } };
        var hamming = new[,] { { 0.0, 1 }, { 1, 0 } };
        foreach (double tolerance in new[] { -1, double.NaN, double.PositiveInfinity })
        {
            Assert.Equal("tolerance", Assert.Throws<ArgumentException>(() => BlahutArimoto.Capacity(bsc, tolerance)).ParamName);
            Assert.Equal("tolerance", Assert.Throws<ArgumentException>(() => BlahutArimoto.RateDistortion([0.5, 0.5], hamming, 3, tolerance)).ParamName);
        }

        Assert.Equal("maxIterations", Assert.Throws<ArgumentException>(() => BlahutArimoto.Capacity(bsc, 1e-12, 0)).ParamName);
        Assert.Equal("maxIterations", Assert.Throws<ArgumentException>(() => BlahutArimoto.RateDistortion([0.5, 0.5], hamming, 3, 1e-12, 0)).ParamName);
        var e = Assert.Throws<ArgumentException>(() => BlahutArimoto.RateDistortion([1e308, 1e308], hamming, 3));
        Assert.Equal("source", e.ParamName);
        Assert.Contains("Infinity", e.Message, StringComparison.Ordinal);
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
