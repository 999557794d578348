using System.Globalization;
using System.Numerics;

namespace GpuInfo.Tests.Statistics;

/// <summary>
/// <see cref="ExactSum"/> against exact rational arithmetic: every finite double is an integer
/// multiple of 2^-1074, so a <see cref="BigInteger"/> count of those units is the exact sum, and the
/// correctly rounded double is the one whose rounding interval holds it (checked here without
/// rounding anything).
/// </summary>
public sealed class ExactSumTests
{
    /// <summary>The exact value of a finite double in units of 2^-1074.</summary>
    private static BigInteger Units(double x)
    {
        Assert.True(double.IsFinite(x), $"{x} is not finite");
        long bits = BitConverter.DoubleToInt64Bits(x);
        int biased = (int)((bits >> 52) & 0x7FF);
        long fraction = bits & ((1L << 52) - 1);
        BigInteger magnitude = biased == 0 ? fraction : (fraction | (1L << 52)) * BigInteger.Pow(2, biased - 1);
        return bits < 0 ? -magnitude : magnitude;
    }

    private static BigInteger ExactUnits(IEnumerable<double> values)
    {
        var total = BigInteger.Zero;
        foreach (double v in values)
        {
            total += Units(v);
        }

        return total;
    }

    /// <summary>
    /// Asserts that <paramref name="r"/> is the double nearest to exact·2^-1074 (ties to even, and
    /// ±infinity past the overflow threshold), by comparing the exact value with the midpoints to r's
    /// neighbours.
    /// </summary>
    private static void AssertCorrectlyRounded(BigInteger exact, double r, string what)
    {
        // Overflow threshold: MaxValue + half an ulp (2^970), in units of 2^-1074.
        var threshold = Units(double.MaxValue) + BigInteger.Pow(2, 970 + 1074);
        if (BigInteger.Abs(exact) >= threshold)
        {
            Assert.True(double.IsInfinity(r) && Math.Sign(r) == exact.Sign, $"{what}: exact sum is past the overflow threshold but got {r:R}");
            return;
        }

        Assert.True(double.IsFinite(r), $"{what}: got {r:R} for a representable sum");
        var value = Units(r);
        double upNeighbour = Math.BitIncrement(r), downNeighbour = Math.BitDecrement(r);
        var up = double.IsFinite(upNeighbour) ? Units(upNeighbour) : (2 * value) - Units(downNeighbour);
        var down = double.IsFinite(downNeighbour) ? Units(downNeighbour) : (2 * value) - Units(upNeighbour);
        var twice = 2 * exact;
        Assert.True(twice >= value + down && twice <= value + up,
            $"{what}: {r:R} is not the nearest double to the exact sum {exact} x 2^-1074");
        if (twice == value + down || twice == value + up)
        {
            Assert.True((BitConverter.DoubleToInt64Bits(r) & 1) == 0, $"{what}: a tie must round to the even neighbour, got {r:R}");
        }
    }

    /// <summary>
    /// Reads the documented text form independently: "nan", "+inf", "-inf", or a signed C99
    /// hexadecimal float with an integer significand ("+0x1f4p-3"), as units of 2^-1074.
    /// </summary>
    private static BigInteger UnitsOfText(string text)
    {
        var m = System.Text.RegularExpressions.Regex.Match(text, "^([+-])0x([0-9a-f]+)p(-?[0-9]+)$");
        Assert.True(m.Success, $"'{text}' is not a signed hexadecimal float");
        var significand = BigInteger.Parse("0" + m.Groups[2].Value, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        int shift = int.Parse(m.Groups[3].Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) + 1074;
        Assert.True(shift >= 0 || significand.IsZero, $"'{text}' is not a multiple of 2^-1074");
        var units = significand.IsZero ? BigInteger.Zero : significand << shift;
        return m.Groups[1].Value == "-" ? -units : units;
    }

    /// <summary>The exact value in the documented form (significand without trailing zero digits, for a canonical text).</summary>
    private static string HexText(BigInteger exact)
    {
        if (exact.IsZero)
        {
            return "+0x0p0";
        }

        var magnitude = BigInteger.Abs(exact);
        int exponent = -1074;
        while ((magnitude & 15) == 0)
        {
            magnitude >>= 4;
            exponent += 4;
        }

        string hex = magnitude.ToString("x", CultureInfo.InvariantCulture).TrimStart('0');
        return string.Create(CultureInfo.InvariantCulture, $"{(exact.Sign < 0 ? '-' : '+')}0x{hex}p{exponent}");
    }

    private static ExactSum Sum(IEnumerable<double> values)
    {
        var s = new ExactSum();
        foreach (double v in values)
        {
            s.Add(v);
        }

        return s;
    }

    /// <summary>Doubles of every magnitude from subnormals to 1e300, both signs, with exact cancellations mixed in.</summary>
    private static List<double> WildValues(Random rng, int count)
    {
        var values = new List<double>();
        while (values.Count < count)
        {
            double sign = rng.Next(2) == 0 ? 1 : -1;
            switch (rng.Next(8))
            {
                case 0:
                    values.Add(sign * BitConverter.Int64BitsToDouble(rng.NextInt64(1, 1L << 52))); // subnormal
                    break;
                case 1:
                    values.Add(sign * double.Epsilon * rng.Next(1, 1000));
                    break;
                case 2:
                    // x, then -x later: exact cancellation of any magnitude.
                    double x = sign * (1 + rng.NextDouble()) * Math.Pow(10, rng.Next(-300, 301));
                    values.Add(x);
                    values.Insert(rng.Next(values.Count + 1), -x);
                    break;
                case 3:
                    values.AddRange([1e300 * sign, 1, -1e300 * sign]);
                    break;
                case 4:
                    values.Add(sign * rng.NextDouble());
                    break;
                default:
                    // A random bit pattern with a biased exponent up to 2020 (about 1e300).
                    long bits = ((long)rng.Next(0, 2021) << 52) | rng.NextInt64(0, 1L << 52);
                    values.Add(sign * BitConverter.Int64BitsToDouble(bits));
                    break;
            }
        }

        return values;
    }

    private static void Shuffle<T>(Random rng, IList<T> list)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }

    /// <summary>Sums in random chunks, then merges the chunk sums (as a random tree) in random order.</summary>
    private static ExactSum Grouped(Random rng, List<double> values)
    {
        var parts = new List<ExactSum>();
        int at = 0;
        while (at < values.Count)
        {
            int length = Math.Min(values.Count - at, rng.Next(1, 200));
            parts.Add(Sum(values.Skip(at).Take(length)));
            at += length;
        }

        while (parts.Count > 1)
        {
            int i = rng.Next(parts.Count), j = rng.Next(parts.Count - 1);
            j += j >= i ? 1 : 0;
            var merged = parts[i];
            merged.Add(parts[j]);
            parts[i] = merged;
            parts.RemoveAt(j);
        }

        return parts.Count == 0 ? default : parts[0];
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Any_order_and_grouping_gives_the_same_bits(int seed)
    {
        var rng = new Random(seed);
        var values = WildValues(rng, 3000);
        var exact = ExactUnits(values);
        var reference = Sum(values);
        AssertCorrectlyRounded(exact, reference.Value, $"seed {seed}");
        Assert.Equal(exact, UnitsOfText(reference.ToExactString()));
        long bits = BitConverter.DoubleToInt64Bits(reference.Value);
        for (int trial = 0; trial < 6; trial++)
        {
            var order = new List<double>(values);
            Shuffle(rng, order);
            var sequential = Sum(order);
            var grouped = Grouped(rng, order);
            Assert.Equal(bits, BitConverter.DoubleToInt64Bits(sequential.Value));
            Assert.Equal(bits, BitConverter.DoubleToInt64Bits(grouped.Value));
            Assert.Equal(reference.ToExactString(), sequential.ToExactString());
            Assert.Equal(reference.ToExactString(), grouped.ToExactString());
        }
    }

    [Theory]
    [InlineData(10)]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(14)]
    [InlineData(15)]
    public void Value_is_the_correctly_rounded_exact_sum(int seed)
    {
        var rng = new Random(seed);
        for (int trial = 0; trial < 40; trial++)
        {
            // Few values of nearby magnitudes make the exact sum land near midpoints and ties.
            int count = rng.Next(1, 12);
            var values = new List<double>();
            int exponent = rng.Next(-1074, 960);
            for (int i = 0; i < count; i++)
            {
                double v = Math.ScaleB(rng.NextInt64(-(1L << 53), 1L << 53), exponent + rng.Next(-60, 3));
                values.Add(v);
            }

            if (trial % 3 == 0)
            {
                // A tie: x plus half an ulp of x (an exact midpoint between two doubles).
                double x = values[0] == 0 ? 1 : values[0];
                values = [x, Math.Abs(Math.BitIncrement(Math.Abs(x)) - Math.Abs(x)) / 2 * Math.Sign(x)];
            }

            var exact = ExactUnits(values);
            var s = Sum(values);
            AssertCorrectlyRounded(exact, s.Value, $"seed {seed} trial {trial}: [{string.Join(", ", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]");
            Assert.Equal(exact, UnitsOfText(s.ToExactString()));
        }
    }

    public static TheoryData<double[], double> NaiveSummationIsWrong => new()
    {
        { [1e16, 1, -1e16], 1 },
        { [1e100, 1e-100, -1e100], 1e-100 },
        { [1e300, 1, -1e300], 1 },
        { [double.MaxValue, double.MaxValue, -double.MaxValue], double.MaxValue }, // the naive sum overflows
        { [1, 1e-16, 1e-16, 1e-16, 1e-16, 1e-16, 1e-16, 1e-16, 1e-16, 1e-16, 1e-16], 1.000000000000001 },
        { [0.1, 0.2, -0.3], 2.7755575615628914E-17 },
        { [3, 1e-300, -3], 1e-300 },
        { [1, double.Epsilon, -1], double.Epsilon },
    };

    [Theory]
    [MemberData(nameof(NaiveSummationIsWrong))]
    public void Sums_where_naive_float64_summation_is_wrong(double[] values, double expected)
    {
        var exact = ExactUnits(values);
        var s = Sum(values);
        AssertCorrectlyRounded(exact, s.Value, string.Join(", ", values));
        Assert.Equal(expected, s.Value);
    }

    [Fact]
    public void Small_cases_round_like_the_exact_value()
    {
        Assert.Equal(0.30000000000000004, Sum([0.1, 0.2]).Value);
        Assert.Equal(0.0, new ExactSum().Value);
        Assert.Equal(BigInteger.Zero, UnitsOfText(new ExactSum().ToExactString()));
        Assert.Equal(0.0, Sum([5, -5]).Value);
        Assert.Equal(new ExactSum().ToExactString(), Sum([5, -5]).ToExactString());
        Assert.Equal(-2.5, Sum([-1, -1.5]).Value);

        // Ties to even: 2^53 + 1 is halfway between 2^53 and 2^53 + 2.
        Assert.Equal(9007199254740992.0, Sum([9007199254740992.0, 1]).Value);
        Assert.Equal(9007199254740996.0, Sum([9007199254740994.0, 1]).Value);

        // Just past the tie rounds up whatever the addition order.
        Assert.Equal(9007199254740994.0, Sum([9007199254740992.0, 1, 1e-300]).Value);
        Assert.Equal(9007199254740994.0, Sum([1e-300, 1, 9007199254740992.0]).Value);
    }

    [Fact]
    public void Overflow_rounds_to_infinity_only_past_half_an_ulp_beyond_MaxValue()
    {
        double halfUlp = Math.ScaleB(1, 970), belowHalf = Math.ScaleB(1, 969);
        Assert.Equal(double.PositiveInfinity, Sum([double.MaxValue, double.MaxValue]).Value);
        Assert.Equal(double.NegativeInfinity, Sum([-double.MaxValue, -double.MaxValue]).Value);
        Assert.Equal(double.MaxValue, Sum([double.MaxValue, belowHalf]).Value);
        Assert.Equal(double.PositiveInfinity, Sum([double.MaxValue, halfUlp]).Value); // tie: MaxValue is odd
        Assert.Equal(double.NegativeInfinity, Sum([-double.MaxValue, -halfUlp]).Value);

        // An overflowed intermediate is no overflow: the sum is exact until it is read.
        var s = Sum([double.MaxValue, double.MaxValue, double.MaxValue]);
        Assert.Equal(double.PositiveInfinity, s.Value);
        s.Add(-double.MaxValue);
        s.Add(-double.MaxValue);
        Assert.Equal(double.MaxValue, s.Value);
    }

    [Fact]
    public void Subnormal_sums_are_exact()
    {
        Assert.Equal(double.Epsilon * 3, Sum([double.Epsilon, double.Epsilon, double.Epsilon]).Value);
        Assert.Equal(BitConverter.Int64BitsToDouble(3), Sum([double.Epsilon, double.Epsilon, double.Epsilon]).Value);
        Assert.Equal(3, UnitsOfText(Sum([double.Epsilon, double.Epsilon, double.Epsilon]).ToExactString()));
        Assert.Equal(-1, UnitsOfText(Sum([double.Epsilon, -double.Epsilon, -double.Epsilon]).ToExactString()));
        Assert.Equal(0.0, Sum([double.Epsilon, -double.Epsilon]).Value);

        double largestSubnormal = BitConverter.Int64BitsToDouble((1L << 52) - 1);
        double smallestNormal = BitConverter.Int64BitsToDouble(1L << 52);
        Assert.Equal(smallestNormal, Sum([largestSubnormal, double.Epsilon]).Value);
        Assert.Equal(largestSubnormal, Sum([smallestNormal, -double.Epsilon]).Value);
        Assert.Equal(smallestNormal, Sum([smallestNormal / 2, smallestNormal / 2]).Value);

        var many = new ExactSum();
        for (int i = 0; i < 100_000; i++)
        {
            many.Add(double.Epsilon);
        }

        Assert.Equal(BitConverter.Int64BitsToDouble(100_000), many.Value);
        Assert.Equal(100_000, UnitsOfText(many.ToExactString()));
    }

    [Fact]
    public void Non_finite_values_are_tracked_and_survive_text()
    {
        Assert.Equal(double.PositiveInfinity, Sum([1, double.PositiveInfinity, -5]).Value);
        Assert.Equal(double.NegativeInfinity, Sum([1, double.NegativeInfinity, 1e300]).Value);
        Assert.True(double.IsNaN(Sum([1, double.NaN]).Value));
        Assert.True(double.IsNaN(Sum([double.PositiveInfinity, double.NegativeInfinity]).Value));
        Assert.True(double.IsNaN(Sum([double.PositiveInfinity, double.NaN, double.PositiveInfinity]).Value));

        Assert.Equal("+inf", Sum([double.PositiveInfinity]).ToExactString());
        Assert.Equal("-inf", Sum([2, double.NegativeInfinity]).ToExactString());
        Assert.Equal("nan", Sum([double.PositiveInfinity, double.NegativeInfinity]).ToExactString());
        Assert.Equal("nan", Sum([double.NaN]).ToExactString());

        foreach (string text in new[] { "+inf", "-inf", "nan" })
        {
            var parsed = ExactSum.Parse(text);
            Assert.Equal(text, parsed.ToExactString());
            parsed.Add(123.0);
            Assert.Equal(text, parsed.ToExactString());
        }

        Assert.Equal(double.PositiveInfinity, ExactSum.Parse("+inf").Value);
        Assert.Equal(double.NegativeInfinity, ExactSum.Parse("-inf").Value);
        Assert.True(double.IsNaN(ExactSum.Parse("nan").Value));

        // Merging specials: +inf with -inf is NaN; an infinity absorbs finite sums.
        var plus = ExactSum.Parse("+inf");
        plus.Add(Sum([1, 2, 3]));
        Assert.Equal(double.PositiveInfinity, plus.Value);
        plus.Add(ExactSum.Parse("-inf"));
        Assert.True(double.IsNaN(plus.Value));
        var finite = Sum([1.5]);
        finite.Add(ExactSum.Parse("-inf"));
        Assert.Equal(double.NegativeInfinity, finite.Value);
    }

    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    [InlineData(23)]
    public void Text_round_trips_exactly(int seed)
    {
        var rng = new Random(seed);
        for (int trial = 0; trial < 20; trial++)
        {
            var values = WildValues(rng, rng.Next(1, 400));
            var s = Sum(values);
            string text = s.ToExactString();
            var back = ExactSum.Parse(text);
            Assert.Equal(BitConverter.DoubleToInt64Bits(s.Value), BitConverter.DoubleToInt64Bits(back.Value));
            Assert.Equal(text, back.ToExactString());

            // The parsed sum holds the exact value, not the rounded one: adding more gives the same as the original.
            var more = WildValues(rng, 50);
            foreach (double v in more)
            {
                s.Add(v);
                back.Add(v);
            }

            Assert.Equal(s.ToExactString(), back.ToExactString());
            Assert.Equal(BitConverter.DoubleToInt64Bits(s.Value), BitConverter.DoubleToInt64Bits(back.Value));
            AssertCorrectlyRounded(ExactUnits(values.Concat(more)), back.Value, $"seed {seed} trial {trial}");
        }
    }

    [Fact]
    public void Parse_reads_signed_hexadecimal_floats()
    {
        Assert.Equal(62.5, ExactSum.Parse("+0x1f4p-3").Value); // the documented example
        Assert.Equal(62.5, ExactSum.Parse("+0xfap-2").Value);
        Assert.Equal(double.Epsilon, ExactSum.Parse("+0x1p-1074").Value);
        Assert.Equal(-double.Epsilon * 255, ExactSum.Parse("-0xffp-1074").Value);
        Assert.Equal(-double.Epsilon * 255, ExactSum.Parse("-0xFFp-1074").Value);
        Assert.Equal(1.0, ExactSum.Parse("+0x1p0").Value);
        Assert.Equal(1.0, ExactSum.Parse("+0x1p+0").Value);
        Assert.Equal(-1024.0, ExactSum.Parse("-0x1p10").Value);
        Assert.Equal(1.0, ExactSum.Parse(HexText(Units(1.0))).Value);
        Assert.Equal(-3.75e-200, ExactSum.Parse(HexText(Units(-3.75e-200))).Value);
        Assert.Equal(0.0, ExactSum.Parse("-0x0p0").Value);
        Assert.Equal(0.0, ExactSum.Parse("+0x000p5").Value);

        // The text of 1.0 means exactly 1, and parsing it back continues the sum exactly.
        Assert.Equal(Units(1.0), UnitsOfText(Sum([1.0]).ToExactString()));
        var s = ExactSum.Parse(Sum([1e16]).ToExactString());
        s.Add(1);
        s.Add(-1e16);
        Assert.Equal(1.0, s.Value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("+xyz")]
    [InlineData("12")]
    [InlineData("+")]
    [InlineData("-")]
    [InlineData("+1")]
    [InlineData("++0x1p0")]
    [InlineData("+-0x1p0")]
    [InlineData("0x1p0")]
    [InlineData("+0x10")]
    [InlineData("+0x1p")]
    [InlineData("+0x1p1.5")]
    [InlineData("+0x1.8p1")]
    [InlineData("+0xgp0")]
    [InlineData("+0X1p0")]
    [InlineData(" +0x1p0")]
    [InlineData("+0x1p0 ")]
    [InlineData("+0x1p-1075")]
    [InlineData("+0xp0")]
    [InlineData("inf")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    public void Parse_rejects_junk(string text)
    {
        Assert.Throws<FormatException>(() => ExactSum.Parse(text));
    }

    [Fact]
    public void Parse_rejects_a_magnitude_too_wide_for_the_sum_with_FormatException()
    {
        // The sum holds integers below about 2^2174 units of 2^-1074; text describing a larger value
        // is not an exact sum and must be refused as such, not crash.
        Assert.Throws<FormatException>(() => ExactSum.Parse("+0x1p2175"));
        Assert.Throws<FormatException>(() => ExactSum.Parse("+0x1p2147483647"));
        Assert.Throws<FormatException>(() => ExactSum.Parse("-0x" + new string('f', 545) + "p-1074"));
        Assert.Throws<FormatException>(() => ExactSum.Parse("+0x1p99999999999"));
    }

    [Fact]
    public void Parse_rejects_null()
    {
        Assert.Throws<ArgumentNullException>(() => ExactSum.Parse(null!));
    }
}
