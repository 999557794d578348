using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Measures;

/// <summary>
/// The numerics policy's edge cases, per backend: -inf entries, huge magnitudes, vocab 1, every row
/// ignored, and bad input that must raise an error naming the row rather than produce a number.
/// </summary>
public abstract class EdgeCaseTests(EngineFixture fixture)
{
    private const int Vocab = 1001;

    protected InfoEngine Engine => fixture.Engine;

    [Fact]
    public void Negative_infinity_entries_carry_no_mass()
    {
        var data = new TestData();
        var x = data.Logits(6, Vocab);
        data.Mask(x, Vocab, 0.3);
        x[2 * Vocab + 5] = float.NegativeInfinity; // some rows start masked: the all -inf prefix
        for (int j = 0; j < 500; j++)
        {
            x[3 * Vocab + j] = float.NegativeInfinity;
        }

        var y = new int[6];
        for (int r = 0; r < 6; r++)
        {
            y[r] = Array.FindIndex(x, r * Vocab, Vocab, float.IsFinite) - r * Vocab;
        }

        var lse = new float[6];
        var entropy = new float[6];
        var loss = new float[6];
        Engine.LogSumExp(Logits.Float32(x, Vocab), lse);
        Engine.Entropy(Logits.Float32(x, Vocab), entropy);
        Engine.CrossEntropy(Logits.Float32(x, Vocab), y, new CrossEntropyOptions(), loss);
        var smoothed = new float[6];
        Engine.CrossEntropy(Logits.Float32(x, Vocab), y, new CrossEntropyOptions { LabelSmoothing = 0.1f }, smoothed);
        for (int r = 0; r < 6; r++)
        {
            var z = Reference64.Scaled(x.AsSpan(r * Vocab, Vocab), 1);
            Tolerance.Close(Reference64.Lse(z), lse[r], 2e-6, 1e-5, $"lse row {r} {data}");
            Tolerance.Close(Reference64.Entropy(z), entropy[r], 1e-5, 3e-5, $"entropy row {r} {data}");
            Tolerance.Close(Reference64.CrossEntropy(z, y[r], 0, null, 0), loss[r], 1e-5, 3e-5, $"loss row {r} {data}");

            // PyTorch: label smoothing averages -log p over every class, so a -inf logit makes it +inf.
            Assert.Equal(float.PositiveInfinity, smoothed[r]);
        }
    }

    [Fact]
    public void Masked_entries_in_the_test_logits_make_kl_infinite_where_the_base_has_mass()
    {
        var data = new TestData();
        var p = data.Logits(2, Vocab);
        p[7] = p.AsSpan(0, Vocab).ToArray().Max(); // real mass at column 7 of row 0
        var q = (float[])p.Clone();
        q[7] = float.NegativeInfinity; // row 0: p has mass at 7, q has none
        p[Vocab + 9] = q[Vocab + 9] = float.NegativeInfinity; // row 1: both masked: 0·log 0 = 0
        var kl = new float[2];
        var reverse = new float[2];
        Engine.KlDivergence(Logits.Float32(p, Vocab), Logits.Float32(q, Vocab), kl);
        Engine.KlDivergence(Logits.Float32(p, Vocab), Logits.Float32(q, Vocab), reverse, KlDirection.Reverse);
        Assert.Equal(float.PositiveInfinity, kl[0]);

        // Q is P renormalised without column 7: KL(Q||P) = -log(1 - p7).
        var z = Reference64.Scaled(p.AsSpan(0, Vocab), 1);
        double p7 = Math.Exp(Reference64.LogSoftmax(z)[7]);
        Tolerance.Close(-Math.Log(1 - p7), reverse[0], 1e-5, 1e-7, $"reverse kl {data}");
        Assert.InRange(kl[1], -1e-6f, 1e-6f);
    }

    /// <summary>
    /// An entry one side masks (-inf) makes the KL from the other side infinite where that side's log p
    /// there is at least ln 2^-149 (a probability float32 holds), and counts as probability 0 below,
    /// wherever the entry lies: before or after the row's max, first in a block, thread or slice, or in
    /// a row taken in float64. The backends judged it against their running max (a block's, a
    /// thread's), so an entry 103.5 nats below the max read ∞ where the pass met it before the max.
    /// </summary>
    [Theory]
    [InlineData(1f, 0f)]
    [InlineData(0.5f, 0f)]
    [InlineData(1f, 3000f)] // Q offset by 3000: the rows are taken in float64
    public void A_masked_entry_is_judged_against_the_rows_max_wherever_it_lies(float temperature, float offset) =>
        CheckMaskedEntries(Engine, temperature, offset, [-10f, -87.5f, -95f, -103.1f, -103.5f, -110f, -300f, -1e6f], [0, 1, 500, Vocab - 1]);

    /// <summary>
    /// The rule is on the masked entry's log-probability, not on its gap to the row's max: in a flat
    /// row of 1001 entries (log s ≈ 6.9) an entry 100 below the max has log p ≈ −106.9, below ln 2^-149,
    /// and counts as 0; one 95 below (log p ≈ −101.9) makes KL infinite. Also for rows taken in float64.
    /// </summary>
    [Theory]
    [InlineData(0f)]
    [InlineData(3000f)]
    public void A_masked_entry_is_judged_by_its_log_probability_in_a_flat_row(float offset)
    {
        var data = new TestData();
        float[] gaps = [-95f, -100f];
        var p = new float[gaps.Length * Vocab];
        var q = new float[p.Length];
        for (int r = 0; r < gaps.Length; r++)
        {
            for (int j = 0; j < Vocab; j++)
            {
                p[(r * Vocab) + j] = (float)(0.01 * data.Normal());
                q[(r * Vocab) + j] = p[(r * Vocab) + j] + (float)(0.01 * data.Normal()) + offset;
            }

            p[(r * Vocab) + 7] = gaps[r];
            q[(r * Vocab) + 7] = float.NegativeInfinity;
        }

        var kl = new float[gaps.Length];
        Engine.Compare(Logits.Float32(p, Vocab), Logits.Float32(q, Vocab), new ComparisonAccumulator(), perRow: new ComparisonRows { Kl = kl });
        for (int r = 0; r < gaps.Length; r++)
        {
            var (zp, zq) = (Reference64.Scaled(p.AsSpan(r * Vocab, Vocab), 1), Reference64.Scaled(q.AsSpan(r * Vocab, Vocab), 1));
            Assert.Equal(r == 0, double.IsPositiveInfinity(Reference64.Kl(zp, zq)));
            Tolerance.Close(Reference64.Kl(zp, zq), kl[r], 1e-5, 1e-6, $"KL, gap {gaps[r]}, offset {offset} {data}");
        }
    }

    /// <summary>
    /// Rows with one entry masked on one side at each of <paramref name="gaps"/> (T units below the
    /// row's max) and <paramref name="places"/> (columns), masked in Q and in P: KL both ways and JS
    /// against <see cref="Reference64"/>, whose rule is the library's.
    /// </summary>
    internal static void CheckMaskedEntries(InfoEngine engine, float temperature, float offset, float[] gaps, int[] places)
    {
        int rows = gaps.Length * places.Length * 2;
        var data = new TestData();
        var p = new float[rows * Vocab];
        var q = new float[rows * Vocab];
        int row = 0;
        foreach (float gap in gaps)
        {
            foreach (int place in places)
            {
                foreach (bool maskInQ in new[] { true, false })
                {
                    var (x, y) = maskInQ ? (p, q) : (q, p); // x: the side whose entry the other masks
                    int start = row * Vocab, top = place < Vocab / 2 ? Vocab - 2 : 2;
                    for (int j = 0; j < Vocab; j++)
                    {
                        // Clamped at 4σ: one entry past 5σ lifted log s past 0.18 and a row at gap −103.1 read finite (seed 2744).
                        x[start + j] = (float)(Math.Clamp(data.Normal(), -4, 4) * 2);
                        y[start + j] = x[start + j] + (float)(data.Normal() * 0.05);
                    }

                    x[start + top] = y[start + top] = 12f;
                    x[start + place] = 12f + (gap * temperature);
                    y[start + place] = float.NegativeInfinity;
                    for (int j = 0; j < Vocab; j++)
                    {
                        q[start + j] += offset;
                    }

                    row++;
                }
            }
        }

        var (kl, reverse, js, tv) = (new float[rows], new float[rows], new float[rows], new float[rows]);
        engine.Compare(Logits.Float32(p, Vocab), Logits.Float32(q, Vocab), new ComparisonAccumulator(), temperature: temperature,
            perRow: new ComparisonRows { Kl = kl, ReverseKl = reverse, JensenShannon = js, TotalVariation = tv });
        for (int r = 0; r < rows; r++)
        {
            var zp = Reference64.Scaled(p.AsSpan(r * Vocab, Vocab), temperature);
            var zq = Reference64.Scaled(q.AsSpan(r * Vocab, Vocab), temperature);
            float gap = gaps[r / (2 * places.Length)];
            string what = $"{engine.Device.Name}, row {r}: gap {gap}, masked at {places[r / 2 % places.Length]} in {(r % 2 == 0 ? "Q" : "P")}, T {temperature}, offset {offset} {data}";
            bool infinite = gap > -103.25f; // log p = gap − log s, log s ≈ 0.04 here
            Assert.Equal(infinite && r % 2 == 0, double.IsPositiveInfinity(Reference64.Kl(zp, zq)));
            Tolerance.Close(Reference64.Kl(zp, zq), kl[r], 1e-5, 1e-6, $"KL {what}");
            Tolerance.Close(Reference64.Kl(zq, zp), reverse[r], 1e-5, 1e-6, $"reverse KL {what}");
            Tolerance.Close(Reference64.JensenShannon(zp, zq), js[r], 1e-5, 1e-6, $"JS {what}");
            Tolerance.Close(Reference64.TotalVariation(zp, zq), tv[r], 1e-5, 1e-6, $"TV {what}");
        }
    }

    [Fact]
    public void Huge_magnitudes_do_not_overflow()
    {
        const int v = 257;
        var x = new float[3 * v];
        var data = new TestData();
        for (int j = 0; j < v; j++)
        {
            x[j] = 1e30f;                                             // all equal and huge: uniform
            x[v + j] = -1e30f;                                        // all equal and hugely negative: uniform
            x[2 * v + j] = (float)(data.Rng.NextDouble() * 2e30 - 1e30); // spread: one-hot at the max
        }

        var y = new[] { 3, 4, 5 };
        var lse = new float[3];
        var entropy = new float[3];
        var loss = new float[3];
        Engine.LogSumExp(Logits.Float32(x, v), lse);
        Engine.Entropy(Logits.Float32(x, v), entropy);
        Engine.CrossEntropy(Logits.Float32(x, v), y, null, loss);
        for (int r = 0; r < 3; r++)
        {
            var z = Reference64.Scaled(x.AsSpan(r * v, v), 1);
            Tolerance.Close(Reference64.Lse(z), lse[r], 1e-6, 0, $"lse row {r}");
            Tolerance.Close(Reference64.Entropy(z), entropy[r], 1e-5, 1e-5, $"entropy row {r}");
            Tolerance.Close(Reference64.CrossEntropy(z, y[r], 0, null, 0), loss[r], 1e-5, 1e-5, $"loss row {r}");
        }

        Tolerance.Close(Math.Log(v), loss[0], 1e-6, 0, "uniform row: -log p = log V despite lse ≈ 1e30");
    }

    /// <summary>
    /// Two valid inputs whose logits differ by more than float32 holds (3e38 against -3e38: the
    /// difference overflowed to NaN, which stopped `compare`) or by a huge constant (1e6: the float32
    /// differences lost the answer): such rows are taken in float64.
    /// </summary>
    [Fact]
    public void Comparing_logits_whose_difference_overflows_gives_the_float64_answer()
    {
        const int v = 33;
        var p = new float[3 * v];
        var q = new float[3 * v];
        var data = new TestData();
        for (int j = 0; j < v; j++)
        {
            p[j] = 3e38f;                                            // uniform
            q[j] = -3e38f;                                           // uniform: KL 0
            p[v + j] = (float)(data.Rng.NextDouble() * 4);           // ordinary
            q[v + j] = p[v + j] + (float)(data.Rng.NextDouble() * 0.1);   // an ordinary row beside it, untouched
            q[(2 * v) + j] = (float)(data.Rng.NextDouble() * 4);
            p[(2 * v) + j] = 1e6f + q[(2 * v) + j] + (float)(data.Rng.NextDouble() * 0.5); // offset by 1e6: float32 differences read KL 0
        }

        var kl = new float[3];
        var js = new float[3];
        var totals = new ComparisonAccumulator();
        Engine.Compare(Logits.Float32(p, v), Logits.Float32(q, v), totals, new[] { 1, 2, 3 }, perRow: new ComparisonRows { Kl = kl, JensenShannon = js });
        for (int r = 0; r < 3; r++)
        {
            var (zp, zq) = (Reference64.Scaled(p.AsSpan(r * v, v), 1), Reference64.Scaled(q.AsSpan(r * v, v), 1));
            var (expectedKl, expectedJs) = (Reference64.Kl(zp, zq), Reference64.JensenShannon(zp, zq));
            Assert.False(float.IsNaN(kl[r]) || float.IsNaN(js[r]), $"row {r}: KL {kl[r]}, JS {js[r]}");
            Tolerance.Close(expectedKl, kl[r], 1e-5, 1e-6, $"KL row {r}");
            Tolerance.Close(expectedJs, js[r], 1e-5, 1e-6, $"JS row {r}");
        }

        Assert.Equal(3, totals.Tokens);
    }

    /// <summary>
    /// Rows far enough apart to be taken in float64 whose probabilities reach subnormals (rows that
    /// are peaked, at a low temperature, do): an entry at the least subnormal probability where the
    /// other row has none made the mixture (p + q)/2 round to 0, and JS infinite.
    /// </summary>
    [Fact]
    public void Rows_taken_in_float64_keep_a_finite_js_where_probabilities_are_subnormal()
    {
        const int v = 7;
        float[] rest = [0f, 1f, 2f, 0.5f, -3f, 0f];
        double lse = Math.Log(rest.Sum(x => Math.Exp(x)));
        var p = new float[v];
        var q = new float[v];
        for (int j = 0; j < v; j++)
        {
            p[j] = j == 1 ? (float)(lse - 744.44) : rest[j < 1 ? j : j - 1];   // p[1] = 4.9e-324, the least subnormal
            q[j] = j == 1 ? float.NegativeInfinity : p[j] + 2000f;              // 2000 apart: the float64 path; q[1] = 0
        }

        var kl = new float[1];
        var js = new float[1];
        Engine.Compare(Logits.Float32(p, v), Logits.Float32(q, v), new ComparisonAccumulator(), perRow: new ComparisonRows { Kl = kl, JensenShannon = js });
        var (zp, zq) = (Reference64.Scaled(p, 1), Reference64.Scaled(q, 1));
        Assert.True(float.IsFinite(js[0]), $"JS {js[0]}");
        Tolerance.Close(Reference64.JensenShannon(zp, zq), js[0], 1e-5, 1e-6, "JS");
        Tolerance.Close(Reference64.Kl(zp, zq), kl[0], 1e-5, 1e-6, "KL");
    }

    /// <summary>
    /// A base row whose max lies more than ~103 nats above the rest (one-hot in float32, as confident
    /// rows become at T = 0.1) against a test row with its mass elsewhere: P's earlier entries vanish at
    /// the new max while Q keeps its mass there. KL read 0 (for ln 8) and JS 0.30 (for 0.50).
    /// </summary>
    [Theory]
    [InlineData(8, 7, 104f, 1f)]
    [InlineData(8, 7, 1000f, 1f)]
    [InlineData(1000, 700, 150f, 1f)]
    [InlineData(1000, 3, 12f, 0.1f)]
    public void A_base_that_is_one_hot_in_float32_keeps_the_test_rows_mass(int v, int top, float gap, float temperature)
    {
        var data = new TestData(v + top);
        var p = new float[v];
        var q = new float[v];
        for (int j = 0; j < v; j++)
        {
            p[j] = v == 8 ? 0f : (float)data.Rng.NextDouble();
            q[j] = v == 8 ? 0f : (float)(data.Rng.NextDouble() * 2) - 20f; // log-probabilities: below the base
        }

        p[top] += gap;
        var kl = new float[1];
        var js = new float[1];
        Engine.Compare(Logits.Float32(p, v), Logits.Float32(q, v), new ComparisonAccumulator(), temperature: temperature, perRow: new ComparisonRows { Kl = kl, JensenShannon = js });
        var (zp, zq) = (Reference64.Scaled(p, temperature), Reference64.Scaled(q, temperature));
        // Such rows take the classic form, Σp(z_p − z_q) − (lse_p − lse_q), whose float32 terms of size
        // gap/T round at ~6e-8 of it (rows whose log-sum-exps lie over 1024 apart go to float64).
        Tolerance.Close(Reference64.Kl(zp, zq), kl[0], 1e-5, 1e-6 + (2e-7 * gap / temperature), "KL");
        Tolerance.Close(Reference64.JensenShannon(zp, zq), js[0], 1e-5, 1e-6, "JS");
    }

    /// <summary>
    /// Near-identical models: the mean log perplexity ratio comes from each token's log q − log p,
    /// not from the difference of the two NLL sums, which had no correct digit (−2.0e-7 for −8.8e-8).
    /// </summary>
    [Fact]
    public void Near_identical_models_keep_their_log_perplexity_ratio()
    {
        const int rows = 64, v = 1000;
        var data = new TestData(Environment.TickCount);
        var p = data.Logits(rows, v);
        var q = p.Select(x => x + (float)(1e-4 * data.Rng.NextDouble())).ToArray();
        var y = Enumerable.Range(0, rows).Select(_ => data.Rng.Next(v)).ToArray();
        var totals = new ComparisonAccumulator();
        Engine.Compare(Logits.Float32(p, v), Logits.Float32(q, v), totals, y);
        double expected = Enumerable.Range(0, rows).Average(r =>
            Reference64.LogSoftmax(Reference64.Scaled(p.AsSpan(r * v, v), 1))[y[r]] - Reference64.LogSoftmax(Reference64.Scaled(q.AsSpan(r * v, v), 1))[y[r]]);
        // The mean crosses 0 (N(0, 4.6e-6²) over seeds): an absolute floor of float32's per-token error, 2e-12,
        // scaled by the perplexity (1e5 to 1e6 here) for the difference.
        Tolerance.Close(expected, totals.MeanLnPerplexityRatio, 1e-4, 2e-12, $"mean ln PPL ratio {data}");
        Tolerance.Close(totals.PerplexityBase * (Math.Exp(expected) - 1), totals.PerplexityDifference, 1e-4, 2e-12 * totals.PerplexityBase, $"PPL difference {data}");
    }

    /// <summary>
    /// A target the base model gives far less probability than the test model (log q − log p past
    /// 709, as at a low temperature): Δp = q − p was formed as p·(e^r − 1), 0·∞, and compare stopped
    /// on a NaN. Each row's Δp and the mean must be q − p from float64.
    /// </summary>
    [Theory]
    [InlineData(1f)]
    [InlineData(0.05f)]
    public void A_target_far_likelier_under_the_test_model_keeps_its_delta_p(float temperature)
    {
        const int rows = 4, v = 37;
        var data = new TestData();
        var p = data.Logits(rows, v);
        var q = data.Logits(rows, v);
        var y = new[] { 3, 5, 7, 11 };
        p[3] = -1400 * temperature;            // row 0: p(target) = e^-1400 or so, 0 in double
        p[v + 5] = -800 * temperature;         // row 1: e^-800, q of the target ordinary
        q[(2 * v) + 7] = -900 * temperature;   // row 2: the other way round, Δp = -p
        var totals = new ComparisonAccumulator();
        Engine.Compare(Logits.Float32(p, v), Logits.Float32(q, v), totals, y, temperature);
        double sum = 0;
        for (int r = 0; r < rows; r++)
        {
            var lp = Reference64.LogSoftmax(Reference64.Scaled(p.AsSpan(r * v, v), temperature));
            var lq = Reference64.LogSoftmax(Reference64.Scaled(q.AsSpan(r * v, v), temperature));
            sum += Math.Exp(lq[y[r]]) - Math.Exp(lp[y[r]]);
        }

        // An ordinary row's Δp comes from a float32 log ratio of logits scaled by 1/T (600 at T 0.05, one
        // float32 step 6e-5 there): the floor grows as 1/T (seed 33334 read −1.53e-5 for −9.5e-6).
        Tolerance.Close(sum / rows, totals.MeanDeltaP, 1e-5, 1e-9 + (1e-6 / temperature), $"mean delta p at T {temperature} {data}");
        Assert.True(double.IsFinite(totals.RmsDeltaP) && double.IsFinite(totals.MeanLnPerplexityRatio), $"RMS delta p {totals.RmsDeltaP}, ln PPL ratio {totals.MeanLnPerplexityRatio}");
    }

    /// <summary>
    /// A gradient float32 cannot hold (z-loss at a tiny temperature: 2·zloss·lse/T ~ 1/T²) came out
    /// NaN where a probability was 0 (∞·0); it is refused, naming the row, and other rows' loss is
    /// still computed where the gradient is not asked for.
    /// </summary>
    [Fact]
    public void A_gradient_float32_cannot_hold_is_refused_naming_the_row()
    {
        const int v = 9;
        var x = new TestData().Logits(2, v);
        var options = new CrossEntropyOptions { ZLoss = 1e-3f, Temperature = 1e-30f };
        var e = Assert.Throws<InvalidInputException>(() => Engine.CrossEntropyWithGradient(Logits.Float32(x, v), new[] { 1, 2 }, new float[2 * v], options));
        Assert.Equal(0, e.Row);
        Assert.Contains("gradient overflows float32", e.Message, StringComparison.Ordinal);
        Assert.True(double.IsFinite(Engine.CrossEntropy(Logits.Float32(x, v), new[] { 1, 2 }, options with { ZLoss = 0 }).Loss));
    }

    [Fact]
    public void A_late_block_with_a_far_larger_max_is_handled()
    {
        // Blocks after the first reuse the running max unless a block's max jumps far above it.
        const int v = 10_007;
        var data = new TestData();
        var p = data.Logits(3, v, scale: 1);
        var q = data.Perturbed(p, 0.01);
        p[v - 3] = q[v - 3] = 500f;                 // row 0: a jump of ~500 in the last block
        p[v + v / 2] = q[v + v / 2] = 20f;          // row 1: a moderate new max mid-row
        p[2 * v + v - 1] = 90f;                     // row 2: P jumps far, Q does not
        var lse = new float[3];
        var entropy = new float[3];
        var kl = new float[3];
        var js = new float[3];
        Engine.LogSumExp(Logits.Float32(p, v), lse);
        Engine.Entropy(Logits.Float32(p, v), entropy);
        Engine.KlDivergence(Logits.Float32(p, v), Logits.Float32(q, v), kl);
        Engine.JensenShannon(Logits.Float32(p, v), Logits.Float32(q, v), js);
        for (int r = 0; r < 3; r++)
        {
            var zp = Reference64.Scaled(p.AsSpan(r * v, v), 1);
            var zq = Reference64.Scaled(q.AsSpan(r * v, v), 1);
            Tolerance.Close(Reference64.Lse(zp), lse[r], 2e-6, 1e-5, $"lse row {r} {data}");
            Tolerance.Close(Reference64.Entropy(zp), entropy[r], 1e-5, 3e-5, $"entropy row {r} {data}");
            Tolerance.Close(Reference64.Kl(zp, zq), kl[r], 1e-4, 1e-6, $"kl row {r} {data}");
            Tolerance.Close(Reference64.JensenShannon(zp, zq), js[r], 1e-4, 1e-6, $"js row {r} {data}");
        }
    }

    [Fact]
    public void Vocabulary_of_one()
    {
        var x = new[] { 3.5f, -2f, 0f };
        var lse = new float[3];
        var entropy = new float[3];
        var loss = new float[3];
        var js = new float[3];
        Engine.LogSumExp(Logits.Float32(x, 1), lse);
        Engine.Entropy(Logits.Float32(x, 1), entropy);
        var result = Engine.CrossEntropy(Logits.Float32(x, 1), new[] { 0, 0, 0 }, new CrossEntropyOptions { LabelSmoothing = 0.3f }, loss);
        Engine.JensenShannon(Logits.Float32(x, 1), Logits.Float32([1f, 1f, 1f], 1), js);
        Assert.Equal(x, lse);
        Assert.All(entropy, h => Assert.Equal(0f, h));
        Assert.All(loss, l => Assert.Equal(0f, l));
        Assert.All(js, j => Assert.Equal(0f, j));
        Assert.Equal(0.0, result.Loss);
        Assert.Equal(3, Engine.Top1Agreement(Logits.Float32(x, 1), Logits.Float32(x, 1)));
    }

    [Fact]
    public void All_rows_ignored_gives_NaN_mean_zero_sum_and_zero_gradient()
    {
        var data = new TestData();
        var x = data.Logits(4, Vocab);
        var y = new[] { -100, -100, -100, -100 };
        var mean = Engine.CrossEntropy(Logits.Float32(x, Vocab), y);
        var sum = Engine.CrossEntropy(Logits.Float32(x, Vocab), y, new CrossEntropyOptions { Reduction = Reduction.Sum });
        Assert.True(double.IsNaN(mean.Loss), $"mean over no rows should be NaN, as PyTorch; got {mean.Loss}");
        Assert.Equal(0.0, sum.Loss);
        Assert.Equal(0, mean.ScoredRows);
        Assert.Equal(4, mean.IgnoredRows);
        var grad = new float[x.Length];
        grad.AsSpan().Fill(float.NaN);
        Engine.CrossEntropyWithGradient(Logits.Float32(x, Vocab), y, grad);
        Assert.All(grad, g => Assert.Equal(0f, g));
        var totals = new PerplexityAccumulator();
        Engine.Evaluate(Logits.Float32(x, Vocab), y, totals);
        Assert.True(double.IsNaN(totals.MeanNll));
    }

    [Fact]
    public void An_ignore_index_inside_the_vocabulary_ignores_that_class()
    {
        var data = new TestData();
        var x = data.Logits(3, Vocab);
        var loss = new float[3];
        var result = Engine.CrossEntropy(Logits.Float32(x, Vocab), new[] { 5, 0, 5 }, new CrossEntropyOptions { IgnoreIndex = 5 }, loss);
        Assert.Equal(1, result.ScoredRows);
        Assert.Equal(0f, loss[0]);
        Assert.True(loss[1] > 0);
    }

    [Theory]
    [InlineData(-1L)]
    [InlineData(Vocab)]
    [InlineData(long.MaxValue)]
    public void Out_of_range_targets_raise_an_error_naming_the_row(long target)
    {
        var x = new TestData().Logits(4, Vocab);
        var y = new long[] { 0, 1, target, 2 };
        var e = Assert.Throws<InvalidInputException>(() => Engine.CrossEntropy(Logits.Float32(x, Vocab), y));
        Assert.Equal(2, e.Row);
        Assert.Equal("targets", e.ParamName);
        Assert.Contains("row 2", e.Message, StringComparison.Ordinal);
        Assert.Contains(target.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "+inf")]
    public void Non_finite_logits_raise_an_error_naming_the_row(float bad, string word)
    {
        var data = new TestData();
        var x = data.Logits(5, Vocab);
        x[3 * Vocab + 17] = bad;
        var lse = new float[5];
        var e = Assert.Throws<InvalidInputException>(() => Engine.LogSumExp(Logits.Float32(x, Vocab), lse));
        Assert.Equal(3, e.Row);
        Assert.Contains(word, e.Message, StringComparison.Ordinal);
        var q = data.Logits(5, Vocab);
        var kl = new float[5];
        var eq = Assert.Throws<InvalidInputException>(() => Engine.KlDivergence(Logits.Float32(q, Vocab), Logits.Float32(x, Vocab), kl));
        Assert.Equal(3, eq.Row);
        Assert.Equal("q", eq.ParamName);
    }

    [Fact]
    public void A_row_of_all_negative_infinity_is_an_error()
    {
        var x = new TestData().Logits(3, Vocab);
        x.AsSpan(Vocab, Vocab).Fill(float.NegativeInfinity);
        var e = Assert.Throws<InvalidInputException>(() => Engine.Entropy(Logits.Float32(x, Vocab), new float[3]));
        Assert.Equal(1, e.Row);
        Assert.Contains("-inf", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_arguments_name_the_parameter()
    {
        var x = new TestData().Logits(3, Vocab);
        Assert.Equal("destination", Assert.Throws<ArgumentException>(() => Engine.LogSumExp(Logits.Float32(x, Vocab), new float[2])).ParamName);
        Assert.Equal("temperature", Assert.Throws<ArgumentException>(() => Engine.LogSumExp(Logits.Float32(x, Vocab), new float[3], 0f)).ParamName);
        Assert.Equal("values", Assert.Throws<ArgumentException>(() => Logits.Float32(x, Vocab + 1)).ParamName);
        Assert.Equal("q", Assert.Throws<ArgumentException>(() => Engine.KlDivergence(Logits.Float32(x, Vocab), Logits.Float32(x.AsSpan(0, 2 * Vocab), Vocab), new float[3])).ParamName);
        Assert.Equal("targets", Assert.Throws<ArgumentException>(() => Engine.CrossEntropy(Logits.Float32(x, Vocab), new[] { 1, 2 })).ParamName);
        Assert.Equal("LabelSmoothing", Assert.Throws<ArgumentException>(() => Engine.CrossEntropy(Logits.Float32(x, Vocab), new[] { 1, 2, 3 }, new CrossEntropyOptions { LabelSmoothing = 1.5f })).ParamName);
        Assert.Equal("ClassWeights", Assert.Throws<ArgumentException>(() => Engine.CrossEntropy(Logits.Float32(x, Vocab), new[] { 1, 2, 3 }, new CrossEntropyOptions { ClassWeights = new float[5] })).ParamName);
        var negative = new float[Vocab];
        negative[4] = -1f;
        Assert.Equal("ClassWeights", Assert.Throws<ArgumentException>(() => Engine.CrossEntropy(Logits.Float32(x, Vocab), new[] { 1, 2, 3 }, new CrossEntropyOptions { ClassWeights = negative })).ParamName);
        Assert.Equal("gradient", Assert.Throws<ArgumentException>(() => Engine.CrossEntropyWithGradient(Logits.Float32(x, Vocab), new[] { 1, 2, 3 }, new float[5])).ParamName);
    }

    [Fact]
    public void Zero_rows_is_not_an_error()
    {
        Engine.LogSumExp(Logits.Float32([], 7), []);
        var result = Engine.CrossEntropy(Logits.Float32([], 7), Array.Empty<int>());
        Assert.True(double.IsNaN(result.Loss));
    }
}
