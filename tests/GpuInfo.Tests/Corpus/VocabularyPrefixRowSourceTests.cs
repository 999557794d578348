using GpuInfo.Corpus;

namespace GpuInfo.Tests.Corpus;

/// <summary>
/// The first N classes of a source's rows: a comparison over them equals one over rows that never had
/// the rest, in every element type and chunking, and a row that puts real mass beyond them is an error.
/// </summary>
public sealed class VocabularyPrefixRowSourceTests(CorpusEngineFixture fixture) : IClassFixture<CorpusEngineFixture>
{
    private const int Rows = 97, Kept = 1531, Padding = 37;

    /// <summary>Base logits [Rows, Kept], a test model near them, and the test's rows padded with classes far below their maximum.</summary>
    private static (float[] Base, float[] Test, float[] Padded, long[] Targets) Data(int seed, float padding = -60f)
    {
        var rng = new Random(seed);
        var p = new float[Rows * Kept];
        var q = new float[Rows * Kept];
        var padded = new float[Rows * (Kept + Padding)];
        for (int r = 0; r < Rows; r++)
        {
            for (int v = 0; v < Kept; v++)
            {
                p[(r * Kept) + v] = (float)(rng.NextDouble() * 8 - 4);
                q[(r * Kept) + v] = p[(r * Kept) + v] + (float)((rng.NextDouble() - 0.5) * 0.6);
                padded[(r * (Kept + Padding)) + v] = q[(r * Kept) + v];
            }

            for (int v = Kept; v < Kept + Padding; v++)
            {
                padded[(r * (Kept + Padding)) + v] = v % 3 == 0 ? float.NegativeInfinity : padding + (float)rng.NextDouble();
            }
        }

        return (p, q, padded, [.. Enumerable.Range(0, Rows).Select(r => (long)((r * 7919) % Kept))]);
    }

    [Theory]
    [InlineData(ScalarType.Float32, 1f)]
    [InlineData(ScalarType.Float16, 1.5f)]
    [InlineData(ScalarType.BFloat16, 0.8f)]
    public void Comparing_the_kept_classes_equals_comparing_rows_that_never_had_the_rest(ScalarType type, float temperature)
    {
        var (p, q, padded, targets) = Data(11);
        using var baseSource = Source(p, Kept, type, targets);
        using var plain = Source(q, Kept, type, null);
        using var full = Source(padded, Kept + Padding, type, null);
        using var cut = new VocabularyPrefixRowSource(full, Kept, temperature);
        var expected = CorpusRun.Compare(fixture.Engine, baseSource, plain, temperature).Comparison!;
        var got = CorpusRun.Compare(fixture.Engine, baseSource, cut, temperature, run: new CorpusRunOptions { ChunkBytes = 13L * Kept * 4 }).Comparison!;
        Assert.Equal(expected.Tokens, got.Tokens);
        Assert.Equal(expected.KlSum, got.KlSum);
        Assert.Equal(expected.JsSum, got.JsSum);
        Assert.Equal(expected.TotalVariationSum, got.TotalVariationSum);
        Assert.Equal(expected.NllSumTest, got.NllSumTest);
        Assert.Equal(expected.SameTop1, got.SameTop1);
        Assert.InRange(cut.LargestDroppedMass, 0, 1e-15); // the padding lies some 56 nats or more below each row's top
        Assert.Equal(Kept, cut.Vocab);
    }

    /// <summary>Keeping a fifth of the classes: the inner rows of a chunk fit what the kept rows would take, in shorter chunks, with the same figures.</summary>
    [Fact]
    public void Keeping_few_classes_shortens_the_chunks_to_their_bytes()
    {
        var (p, q, _, targets) = Data(15);
        int vocab = Kept * 5;
        var wide = new float[Rows * vocab];
        for (int r = 0; r < Rows; r++)
        {
            q.AsSpan(r * Kept, Kept).CopyTo(wide.AsSpan(r * vocab));
            wide.AsSpan((r * vocab) + Kept, vocab - Kept).Fill(-90f);
        }

        using var baseSource = MemoryRowSource.Float32(p, Kept, targets);
        using var plain = MemoryRowSource.Float32(q, Kept);
        using var full = MemoryRowSource.Float32(wide, vocab);
        using var cut = new VocabularyPrefixRowSource(full, Kept);
        Assert.Equal(2, cut.ChunkRows(0, 11)); // 11 rows of the kept classes hold 2 whole rows
        Assert.Equal(1, cut.ChunkRows(0, 3));
        var run = new CorpusRunOptions { ChunkBytes = 2L * 11 * Kept * 4 };
        var expected = CorpusRun.Compare(fixture.Engine, baseSource, plain, run: run).Comparison!;
        var got = CorpusRun.Compare(fixture.Engine, baseSource, cut, run: run).Comparison!;
        Assert.Equal(expected.KlSum, got.KlSum);
        Assert.Equal(expected.NllSumTest, got.NllSumTest);
    }

    [Fact]
    public void A_row_with_real_mass_beyond_the_kept_classes_is_an_error_naming_it()
    {
        var (p, _, padded, _) = Data(12);
        padded[(41 * (Kept + Padding)) + Kept + 5] = 6f; // row 41 puts real mass on a padding class
        using var baseSource = MemoryRowSource.Float32(p, Kept, name: "base");
        using var full = MemoryRowSource.Float32(padded, Kept + Padding, name: "test");
        using var cut = new VocabularyPrefixRowSource(full, Kept);
        var e = Assert.Throws<RowSourceException>(() => CorpusRun.Compare(fixture.Engine, baseSource, cut));
        Assert.Equal("test", e.Source);
        Assert.Equal(41, e.Row);
        Assert.Contains($"beyond the first {Kept} of its {Kept + Padding} classes", e.Message, StringComparison.Ordinal);

        padded[(41 * (Kept + Padding)) + Kept + 5] = float.NaN;
        Assert.Contains("NaN or +inf beyond", Assert.Throws<RowSourceException>(() => CorpusRun.Compare(fixture.Engine, baseSource, cut)).Message, StringComparison.Ordinal);
    }

    /// <summary>The mass beyond is that of softmax(z/T): padding 12 nats below the row's top is negligible at T = 1, not at T = 4.</summary>
    [Fact]
    public void The_dropped_mass_is_taken_at_the_runs_temperature()
    {
        var (p, _, padded, _) = Data(13, padding: -8f); // rows' maxima are near 4: padding some 12 below
        using var baseSource = MemoryRowSource.Float32(p, Kept);
        using var full = MemoryRowSource.Float32(padded, Kept + Padding);
        using var cool = new VocabularyPrefixRowSource(full, Kept, 1f);
        CorpusRun.Compare(fixture.Engine, baseSource, cool, 1f);
        Assert.InRange(cool.LargestDroppedMass, 1e-9, VocabularyPrefixRowSource.DefaultMaxDroppedMass);
        using var hot = new VocabularyPrefixRowSource(full, Kept, 4f);
        Assert.Throws<RowSourceException>(() => CorpusRun.Compare(fixture.Engine, baseSource, hot, 4f));
    }

    [Fact]
    public void Partials_of_other_cuts_are_told_apart()
    {
        var (_, _, padded, _) = Data(14);
        using var full = MemoryRowSource.Float32(padded, Kept + Padding);
        using var cut = new VocabularyPrefixRowSource(full, Kept);
        using var less = new VocabularyPrefixRowSource(full, Kept - 1);
        var described = cut.Describe();
        Assert.Equal(Kept, described.Vocab);
        Assert.Equal((Kept + Padding).ToString(System.Globalization.CultureInfo.InvariantCulture), described.Settings["classes_of"]);
        Assert.NotEqual(described.Vocab, less.Describe().Vocab);
    }

    [Fact]
    public void Bad_arguments_name_themselves()
    {
        using var full = MemoryRowSource.Float32(new float[12], 4);
        Assert.Equal("classes", Assert.Throws<ArgumentOutOfRangeException>(() => new VocabularyPrefixRowSource(full, 0)).ParamName);
        Assert.Equal("classes", Assert.Throws<ArgumentOutOfRangeException>(() => new VocabularyPrefixRowSource(full, 5)).ParamName);
        Assert.Equal("temperature", Assert.Throws<ArgumentOutOfRangeException>(() => new VocabularyPrefixRowSource(full, 2, 0f)).ParamName);
        Assert.Equal("maxDroppedMass", Assert.Throws<ArgumentOutOfRangeException>(() => new VocabularyPrefixRowSource(full, 2, 1f, 1)).ParamName);
    }

    private static MemoryRowSource Source(float[] values, int vocab, ScalarType type, long[]? targets)
    {
        ReadOnlyMemory<long>? t = targets is null ? (ReadOnlyMemory<long>?)null : targets;
        return type switch
        {
            ScalarType.Float32 => MemoryRowSource.Float32(values, vocab, t),
            ScalarType.Float16 => MemoryRowSource.Float16(values.Select(v => (Half)v).ToArray(), vocab, t),
            _ => MemoryRowSource.BFloat16(values.Select(BFloat16Bits).ToArray(), vocab, t),
        };
    }

    /// <summary>The bfloat16 payload of a float, rounded to nearest even.</summary>
    private static ushort BFloat16Bits(float v)
    {
        uint bits = BitConverter.SingleToUInt32Bits(v);
        return float.IsNaN(v) ? (ushort)0x7FC0 : (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }
}
