using GpuInfo.Corpus;
using GpuInfo.Tests.Corpus;

namespace GpuInfo.Tests.Measures;

/// <summary>
/// Caller mistakes an audit of the library found answered, not refused: ranks and top-k sets of NaN
/// rows (a NaN ranked a target first), totals no tokens could give, a top-k that was never tracked
/// (KeyNotFoundException), and one span given for two outputs (the loss read back as the entropy).
/// </summary>
public sealed class CallerMistakeTests(CorpusEngineFixture fixture) : IClassFixture<CorpusEngineFixture>
{
    private readonly InfoEngine _engine = fixture.Engine;

    [Theory]
    [InlineData(float.NaN, 1, "row 1: logit 0 is NaN")]
    [InlineData(float.PositiveInfinity, 1, "row 1: logit 0 is +inf")]
    [InlineData(float.NegativeInfinity, 1, "row 1: every logit is -inf")]
    public void Ranks_and_top_k_sets_of_rows_with_no_distribution_are_refused_naming_the_row(float bad, int row, string fragment)
    {
        float[] x = [1, 2, 3, 1, 2, 3];
        x[row * 3] = bad;
        if (float.IsNegativeInfinity(bad))
        {
            x[(row * 3) + 1] = x[(row * 3) + 2] = bad;
        }

        var ranks = new int[2];
        var e = Assert.Throws<InvalidInputException>(() => _engine.TargetRanks(Logits.Float32(x, 3), new Targets(new long[] { 2, 0 }), ranks));
        Assert.Contains(fragment, e.Message, StringComparison.Ordinal);
        Assert.Equal(row, e.Row);
        float[] clean = [1, 2, 3, 1, 2, 3];
        var q = Assert.Throws<InvalidInputException>(() => _engine.TopKAgreement(Logits.Float32(clean, 3), Logits.Float32(x, 3), 2, new float[2], new bool[2]));
        Assert.Contains(fragment, q.Message, StringComparison.Ordinal);
        Assert.Equal("q", q.ParamName);
    }

    [Fact]
    public void Totals_no_tokens_could_give_are_refused_and_nothing_is_added()
    {
        var totals = new PerplexityAccumulator();
        Assert.Equal("nll", Assert.Throws<ArgumentOutOfRangeException>(() => totals.AddTokens([1f, -5f])).ParamName);
        Assert.Equal("nll", Assert.Throws<ArgumentOutOfRangeException>(() => totals.AddTokens([float.NaN])).ParamName);
        Assert.Equal(0, totals.Tokens);
        Assert.Equal("weightSum", Assert.Throws<ArgumentOutOfRangeException>(() => totals.Add(1, 0, 1, -1)).ParamName);
        Assert.Equal("nllSum", Assert.Throws<ArgumentOutOfRangeException>(() => totals.Add(1, 0, double.NaN, 1)).ParamName);
        Assert.Equal("top1Hits", Assert.Throws<ArgumentOutOfRangeException>(() => totals.Add(1, 0, 1, 1, 0, top1Hits: 5)).ParamName);
        totals.AddTokens([float.PositiveInfinity]); // a target of no probability: an infinite loss, as PyTorch's
        Assert.True(double.IsPositiveInfinity(totals.MeanNll));
    }

    [Fact]
    public void A_top_k_that_was_not_tracked_is_an_argument_error_naming_those_that_were()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new PerplexityAccumulator().TopKAccuracy(5));
        Assert.Equal("k", e.ParamName);
        Assert.Contains("none", e.Message, StringComparison.Ordinal);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => new ComparisonAccumulator().TopKOverlap(3)).ParamName);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => new ComparisonAccumulator().TopOneInTopK(3)).ParamName);
    }

    [Fact]
    public void One_span_for_two_outputs_is_refused()
    {
        var shared = new float[2];
        var e = Assert.Throws<ArgumentException>(() => _engine.Evaluate(Logits.Float32([1, 2, 3, 1, 2, 3], 3), new Targets(new long[] { 2, 0 }),
            new PerplexityAccumulator(), null, new EvaluationRows { Loss = shared, Entropy = shared }));
        Assert.Equal("perRow.Entropy", e.ParamName);
        Assert.Contains("share memory", e.Message, StringComparison.Ordinal);
    }

    /// <summary>A confidence that is not a probability went into the first or last slot; a percentile outside 0..100 read as the min or max.</summary>
    [Fact]
    public void Values_outside_their_range_are_refused_not_clamped()
    {
        var bins = new CalibrationBins(10);
        Assert.Equal(10, bins.BinOf(1));
        Assert.Equal(9, bins.BinOf(0.95));
        foreach (double bad in new[] { -0.5, 1.5, double.NaN, double.PositiveInfinity })
        {
            Assert.Equal("confidence", Assert.Throws<ArgumentOutOfRangeException>(() => bins.BinOf(bad)).ParamName);
        }

        var sketch = new LogHistogram();
        sketch.Add(0.5);
        Assert.Equal(0.5, sketch.Percentile(100));
        foreach (double bad in new[] { -5, 150, double.NaN })
        {
            Assert.Equal("percent", Assert.Throws<ArgumentOutOfRangeException>(() => sketch.Percentile(bad)).ParamName);
        }

        Assert.Equal("Tolerance", Assert.Throws<ArgumentException>(() => new IbOptions { Tolerance = double.PositiveInfinity }.Validate(4)).ParamName);
    }

    /// <summary>A null in a list, an index past the windows or documents: NullReferenceException and IndexOutOfRangeException before.</summary>
    [Fact]
    public void Nulls_in_lists_and_indices_out_of_range_are_argument_errors()
    {
        Assert.Equal("partials", Assert.Throws<ArgumentException>(() => CorpusPartial.Merge([null!])).ParamName);
        var windows = GpuInfo.Models.ModelWindows.Sliding(10, 4, 2);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => windows.Begin(-1)).ParamName);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => windows.RowsOf(windows.Count)).ParamName);
        Assert.Equal("document", Assert.Throws<ArgumentOutOfRangeException>(() => windows.DocumentFirstRow(1)).ParamName);
        var text = new GpuInfo.Models.TokenizedText([1, 2, 3], null, null, "a.txt", "t");
        Assert.Equal("documents", Assert.Throws<ArgumentException>(() => GpuInfo.Models.TokenizedText.Join([text, null!], 5, "n")).ParamName);
    }

    /// <summary>Microsoft.ML's InvalidOperationException for a bad merge line came through the stream overload unwrapped, and a negative id was taken.</summary>
    [Fact]
    public void A_vocab_and_merges_it_cannot_read_are_argument_errors()
    {
        static MemoryStream Text(string s) => new(System.Text.Encoding.UTF8.GetBytes(s));
        var e = Assert.Throws<ArgumentException>(() => GpuInfo.Models.TokenizerCatalog.VocabAndMerges(Text("""{"a": 0, "b": 1}"""), Text("a b c d\n"), "n"));
        Assert.Equal("merges", e.ParamName);
        Assert.Equal("vocab", Assert.Throws<ArgumentException>(() => GpuInfo.Models.TokenizerCatalog.VocabAndMerges(Text("""{"a": 0, "b": -3}"""), Text(""), "n")).ParamName);
    }

    /// <summary>A bad device named the parameter "device", which neither entry point has; a blank one was read as none asked for.</summary>
    [Fact]
    public void A_bad_device_names_the_parameter_it_came_in()
    {
        Assert.Equal("options", Assert.Throws<ArgumentException>(() => new InfoEngine(new InfoEngineOptions { Device = "nonsense" })).ParamName);
        Assert.Equal("options", Assert.Throws<ArgumentException>(() => new InfoEngine(new InfoEngineOptions { Device = "  " })).ParamName);
        var e = Assert.Throws<ArgumentException>(() => InfoEngine.CreateEngines("cpu,bogus"));
        Assert.Equal("devices", e.ParamName);
        Assert.Contains("unknown device 'bogus' (from the list)", e.Message, StringComparison.Ordinal);
    }

    /// <summary>A source whose Read leaves a block alone: the block, reused chunk after chunk, held the last chunk's rows, and they were measured again.</summary>
    [Fact]
    public void A_source_that_fills_no_rows_is_refused_not_measured_on_stale_rows()
    {
        var data = new Reference.TestData(71);
        using var source = new ForgetfulSource(data.Logits(6, 5), 5, [0, 1, 2, 3, 4, 0]);
        var e = Assert.Throws<RowSourceException>(() => CorpusRun.Evaluate(_engine, source, run: new CorpusRunOptions { ChunkBytes = 1 }));
        Assert.Contains("forgetful", e.Message, StringComparison.Ordinal);
        Assert.Contains("neither wrote the block's Buffer nor handed it rows", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Fills only the first chunk's block.</summary>
    private sealed class ForgetfulSource(float[] values, int vocab, long[] targets) : RowSource
    {
        public override long Rows => values.Length / vocab;

        public override int Vocab => vocab;

        public override ScalarType Type => ScalarType.Float32;

        public override bool HasTargets => true;

        public override string Name => "forgetful";

        public override SourceDescription Describe() =>
            new("forgetful", Rows, Vocab, Type, Values, [], new SortedDictionary<string, string>(StringComparer.Ordinal));

        protected internal override void Read(RowBlock block)
        {
            if (block.FirstRow == 0)
            {
                System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan(0, block.Rows * vocab)).CopyTo(block.Buffer);
            }

            targets.AsSpan((int)block.FirstRow, block.Rows).CopyTo(block.Targets);
        }
    }
}
