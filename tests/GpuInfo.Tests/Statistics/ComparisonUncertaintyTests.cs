using GpuInfo.Corpus;
using GpuInfo.Tests.Reference;

namespace GpuInfo.Tests.Statistics;

/// <summary>
/// Every mean of a comparison with its standard error (KL both ways, JS, NLLs, Δp), and the derived figures llama.cpp reports
/// (PPL ± PPL·SE, Cor(ln PPL), mean ln ratio ±, ratio ±, difference ±, RMS Δp ±, same top-1 ±, Δp
/// percentiles), against a float64 recomputation from per-token float64 reference values (two-pass
/// variances, NumPy's percentile rule); and merged shards give the same figures (Δp percentiles from
/// the sketch, within its stated error).
/// </summary>
public sealed class ComparisonUncertaintyTests
{
    [Fact]
    public void Every_figure_matches_a_float64_recomputation_and_survives_a_merge()
    {
        var data = new TestData();
        const int rows = 300, vocab = 257;
        var x = data.Logits(rows, vocab);
        var q = data.Perturbed(x, 0.4);
        var y = data.Targets(rows, vocab).Select(v => (long)v).ToArray();
        using var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        var t = CorpusRun.Compare(engine, MemoryRowSource.Float32(x, vocab, y), MemoryRowSource.Float32(q, vocab)).Comparison!;

        var nllBase = new double[rows];
        var nllTest = new double[rows];
        var kl = new double[rows];
        var reverseKl = new double[rows];
        var js = new double[rows];
        var deltaP = new double[rows];
        int same = 0;
        for (int i = 0; i < rows; i++)
        {
            var zp = Reference64.Scaled(x.AsSpan(i * vocab, vocab), 1);
            var zq = Reference64.Scaled(q.AsSpan(i * vocab, vocab), 1);
            nllBase[i] = -Reference64.LogSoftmax(zp)[y[i]];
            nllTest[i] = -Reference64.LogSoftmax(zq)[y[i]];
            kl[i] = Reference64.Kl(zp, zq);
            reverseKl[i] = Reference64.Kl(zq, zp);
            js[i] = Reference64.JensenShannon(zp, zq);
            deltaP[i] = Math.Exp(-nllTest[i]) - Math.Exp(-nllBase[i]);
            same += Reference64.ArgMax(x.AsSpan(i * vocab, vocab)) == Reference64.ArgMax(q.AsSpan(i * vocab, vocab)) ? 1 : 0;
        }

        var (mb, sb) = MeanSe(nllBase);
        var (mt, st) = MeanSe(nllTest);
        double cov = Covariance(nllTest, nllBase) / (rows - 1);
        double lnRatioSe = Math.Sqrt((st * st) + (sb * sb) - (2 * cov));
        var expected = new Dictionary<string, (double Expected, double Actual)>
        {
            ["mean_kld"] = (MeanSe(kl).Mean, t.MeanKl),
            ["mean_kld_se"] = (MeanSe(kl).Se, t.MeanKlError),
            ["mean_reverse_kld"] = (MeanSe(reverseKl).Mean, t.MeanReverseKl),
            ["mean_reverse_kld_se"] = (MeanSe(reverseKl).Se, t.MeanReverseKlError),
            ["mean_js_se"] = (MeanSe(js).Se, t.MeanJsError),
            ["ppl_base"] = (Math.Exp(mb), t.PerplexityBase),
            ["ppl_base_se"] = (Math.Exp(mb) * sb, t.PerplexityBaseError),
            ["ppl_test_se"] = (Math.Exp(mt) * st, t.PerplexityTestError),
            ["cor_ln_ppl"] = (cov / (st * sb), t.LnPerplexityCorrelation),
            ["mean_ln_ppl_ratio"] = (mt - mb, t.MeanLnPerplexityRatio),
            ["mean_ln_ppl_ratio_se"] = (lnRatioSe, t.MeanLnPerplexityRatioError),
            ["ppl_ratio_se"] = (Math.Exp(mt - mb) * lnRatioSe, t.PerplexityRatioError),
            ["ppl_diff_se"] = (Math.Sqrt(Math.Pow(Math.Exp(mt) * st, 2) + Math.Pow(Math.Exp(mb) * sb, 2) - (2 * Math.Exp(mt) * Math.Exp(mb) * cov)), t.PerplexityDifferenceError),
            ["mean_delta_p"] = (MeanSe(deltaP).Mean, t.MeanDeltaP),
            ["mean_delta_p_se"] = (MeanSe(deltaP).Se, t.MeanDeltaPError),
            ["rms_delta_p"] = (Math.Sqrt(deltaP.Average(d => d * d)), t.RmsDeltaP),
            ["rms_delta_p_se"] = (0.5 / Math.Sqrt(deltaP.Average(d => d * d)) * MeanSe([.. deltaP.Select(d => d * d)]).Se, t.RmsDeltaPError),
            ["same_top1_se"] = (Math.Sqrt((double)same / rows * (1 - ((double)same / rows)) / (rows - 1)), t.SameTop1FractionError),
        };
        foreach (var (name, (e, a)) in expected)
        {
            // The mean log PPL ratio sums float32 per-token log ratios and crosses 0 over seeds (N(0.023, 0.031²)):
            // its error, 2-7e-9, is absolute (seed 4250 read 6.1e-6 within 2.5e-9).
            double floor = name == "mean_ln_ppl_ratio" ? 5e-8 : 1e-9;
            Assert.True(Math.Abs(a - e) <= (2e-4 * Math.Abs(e)) + floor, $"{name}: float64 {e:R}, gpuinfo {a:R} (seed {data.Seed})");
        }

        var sorted = deltaP.Select(d => (float)d).Order().ToArray();
        foreach (var (name, value) in t.DeltaPPercentiles())
        {
            double percent = Percentiles.DeltaP.Single(p => p.Name == name).Percent;
            double exact = Percentiles.OfSorted(sorted, percent);
            Assert.True(Math.Abs(value - exact) <= 1e-6 + (1e-3 * Math.Abs(exact)), $"delta-p {name}: {exact:R} vs {value:R} (seed {data.Seed})");
        }

        var parts = Enumerable.Range(0, 4).Select(i => CorpusRun.Compare(engine, MemoryRowSource.Float32(x, vocab, y), MemoryRowSource.Float32(q, vocab),
            run: new CorpusRunOptions { Shard = new Shard(i, 4) })).ToList();
        using var dir = new Formats.TempDir();
        var merged = CorpusPartial.Merge(parts.Select((p, i) =>
        {
            string path = dir.File($"part-{i}.json");
            p.Save(path);
            return CorpusPartial.Load(path);
        })).Comparison!;
        Assert.Equal(t.MeanKlError, merged.MeanKlError);
        Assert.True(merged.HasReverseKl);
        Assert.Equal(t.MeanReverseKl, merged.MeanReverseKl);
        Assert.Equal(t.MeanReverseKlError, merged.MeanReverseKlError);
        Assert.Equal(t.PerplexityDifferenceError, merged.PerplexityDifferenceError);
        Assert.Equal(t.RmsDeltaPError, merged.RmsDeltaPError);
        Assert.Equal(t.LnPerplexityCorrelation, merged.LnPerplexityCorrelation);
        foreach (var ((name, one), (_, sketch)) in t.DeltaPPercentiles().Zip(merged.DeltaPPercentiles()))
        {
            Assert.True(Math.Abs(one - sketch) <= LinearHistogram.AbsoluteError * 1.001, $"delta-p {name}: one run {one:R}, merged sketch {sketch:R}");
        }
    }

    /// <summary>Compare's per-row outputs are the values its totals sum, and the single measures' values.</summary>
    [Theory]
    [InlineData("cpu")]
    [InlineData("ilgpu-cpu")]
    public void Compare_per_row_outputs_are_the_single_measures(string device)
    {
        var data = new TestData();
        const int rows = 37, vocab = 333;
        var x = data.Logits(rows, vocab);
        var q = data.Perturbed(x, 0.7);
        using var engine = new InfoEngine(new InfoEngineOptions { Device = device });
        var p = Logits.Float32(x, vocab);
        var t = Logits.Float32(q, vocab);
        float[] kl = new float[rows], reverse = new float[rows], js = new float[rows];
        var totals = new ComparisonAccumulator();
        engine.Compare(p, t, totals, perRow: new ComparisonRows { Kl = kl, ReverseKl = reverse, JensenShannon = js });
        float[] forwardAlone = new float[rows], reverseAlone = new float[rows], jsAlone = new float[rows];
        engine.KlDivergence(p, t, forwardAlone);
        engine.KlDivergence(p, t, reverseAlone, KlDirection.Reverse);
        engine.JensenShannon(p, t, jsAlone);
        // The SIMD path is bitwise deterministic; an accelerator's group reductions may add in another order.
        double same = device == "cpu" ? 0 : 1e-5;
        Assert.All(Enumerable.Range(0, rows), i =>
        {
            Assert.True(Math.Abs(kl[i] - forwardAlone[i]) <= same * forwardAlone[i], $"row {i}: KL {kl[i]:R} alone {forwardAlone[i]:R}");
            Assert.True(Math.Abs(reverse[i] - reverseAlone[i]) <= same * reverseAlone[i], $"row {i}: reverse KL {reverse[i]:R} alone {reverseAlone[i]:R}");
            Assert.True(Math.Abs(js[i] - jsAlone[i]) <= same * jsAlone[i], $"row {i}: JS {js[i]:R} alone {jsAlone[i]:R}");
        });
        Assert.Equal(reverse.Sum(v => (double)v) / rows, totals.MeanReverseKl, 12);
        for (int i = 0; i < rows; i++)
        {
            double expected = Reference64.Kl(Reference64.Scaled(q.AsSpan(i * vocab, vocab), 1), Reference64.Scaled(x.AsSpan(i * vocab, vocab), 1));
            // RowMeasureTests' KL tolerance (2e-5 relative + 5e-6 absolute): float32 rows; 3.7e-7 absolute was seen on the kernels at KL 9.5e-4.
            Assert.True(Math.Abs(reverse[i] - expected) <= (2e-5 * expected) + 5e-6, $"row {i}: reverse KL {reverse[i]:R}, float64 {expected:R} ({device}, seed {data.Seed})");
        }

        Assert.NotEqual(kl, reverse); // the other direction, not KL again (one row's two may round alike)
    }

    [Fact]
    public void Evaluation_means_carry_their_standard_errors()
    {
        var data = new TestData();
        const int rows = 200, vocab = 301;
        var x = data.Logits(rows, vocab);
        var y = data.Targets(rows, vocab, 0.1).Select(v => (long)v).ToArray();
        using var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        var t = CorpusRun.Evaluate(engine, MemoryRowSource.Float32(x, vocab, y)).Evaluation!;
        var scored = Enumerable.Range(0, rows).Where(i => y[i] != -100).ToArray();
        var nll = scored.Select(i => -Reference64.LogSoftmax(Reference64.Scaled(x.AsSpan(i * vocab, vocab), 1))[y[i]]).ToArray();
        var entropy = scored.Select(i => Reference64.Entropy(Reference64.Scaled(x.AsSpan(i * vocab, vocab), 1))).ToArray();
        int hits = scored.Count(i => Reference64.ArgMax(x.AsSpan(i * vocab, vocab)) == y[i]);
        var (mean, se) = MeanSe(nll);
        foreach (var (name, e, a) in new[]
        {
            ("mean_nll_se", se, t.MeanNllError),
            ("perplexity_se", Math.Exp(mean) * se, t.PerplexityError),
            ("bits_per_token_se", se / Math.Log(2), t.BitsPerTokenError),
            ("mean_entropy_se", MeanSe(entropy).Se, t.MeanEntropyError),
            ("top1_accuracy_se", Math.Sqrt((double)hits / scored.Length * (1 - ((double)hits / scored.Length)) / (scored.Length - 1)), t.Top1AccuracyError),
        })
        {
            Assert.True(Math.Abs(a - e) <= 2e-4 * Math.Abs(e), $"{name}: float64 {e:R}, gpuinfo {a:R} (seed {data.Seed})");
        }
    }

    [Fact]
    public void Fewer_than_two_tokens_have_no_standard_error()
    {
        var (mean, error) = Uncertainty.Mean(3, 9, 1);
        Assert.Equal(3, mean);
        Assert.True(double.IsNaN(error));
        Assert.True(double.IsNaN(Uncertainty.Fraction(1, 1)));
        Assert.Equal(0, Uncertainty.Mean(6, 12, 3).Error);
    }

    private static (double Mean, double Se) MeanSe(double[] v)
    {
        double mean = v.Average();
        double variance = v.Sum(x => (x - mean) * (x - mean)) / v.Length;
        return (mean, Math.Sqrt(variance / (v.Length - 1)));
    }

    private static double Covariance(double[] a, double[] b)
    {
        double ma = a.Average(), mb = b.Average();
        return a.Zip(b).Sum(p => (p.First - ma) * (p.Second - mb)) / a.Length;
    }
}
