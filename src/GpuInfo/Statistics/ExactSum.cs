using System.Globalization;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace GpuInfo;

/// <summary>
/// The exact sum of float64 values: a fixed-point integer with its lowest bit at 2^-1074 (the
/// smallest subnormal) wide enough for 2^63 values of any magnitude, so that no addition rounds.
/// Addition is therefore associative: chunks, shards and threads can be summed in any grouping
/// and any order and give the same bits, which is what lets merged shard partials equal one run.
/// <see cref="Value"/> rounds once, to nearest even. Non-finite values are tracked apart: any NaN,
/// or both infinities, make the sum NaN; one infinity makes it that infinity.
/// </summary>
/// <remarks>
/// 68 limbs of 32 bits held in 64-bit integers: each addition touches three limbs; carries are
/// propagated every 2^30 additions (and before reading), so limbs never overflow.
/// </remarks>
public struct ExactSum
{
    private const int LimbCount = 68;
    private const int PendingLimit = 1 << 30;
    private Limbs _limbs;
    private int _pending;
    private byte _special;

    private const byte HasNaN = 1, HasPositiveInfinity = 2, HasNegativeInfinity = 4;

    /// <summary>The sum rounded to the nearest float64 (ties to even).</summary>
    public readonly double Value
    {
        get
        {
            if (Special is { } s)
            {
                return s;
            }

            var c = this;
            c.Normalize();
            bool negative = c._limbs[LimbCount - 1] < 0;
            if (negative)
            {
                for (int i = 0; i < LimbCount; i++)
                {
                    c._limbs[i] = -c._limbs[i];
                }

                c.Normalize();
            }

            int top = LimbCount - 1;
            while (top >= 0 && c._limbs[top] == 0)
            {
                top--;
            }

            if (top < 0)
            {
                return 0.0;
            }

            // The top three limbs (at most 127 bits, the top limb holding carries), the rest as a sticky bit.
            UInt128 m = ((UInt128)(ulong)c._limbs[top] << 64) | ((UInt128)(ulong)c.Limb(top - 1) << 32) | (ulong)c.Limb(top - 2);
            bool sticky = false;
            for (int i = top - 3; i >= 0 && !sticky; i--)
            {
                sticky = c._limbs[i] != 0;
            }

            int lowest = (32 * (top - 2)) - 1074;
            int length = 128 - (int)UInt128.LeadingZeroCount(m);
            double v;
            if (length <= 53)
            {
                v = Math.ScaleB((double)(ulong)m, lowest);
            }
            else
            {
                int drop = length - 53;
                UInt128 kept = m >> drop, rest = m & ((UInt128.One << drop) - 1), half = UInt128.One << (drop - 1);
                if (rest > half || (rest == half && (sticky || (kept & 1) == 1)))
                {
                    kept++;
                }

                v = Math.ScaleB((double)(ulong)kept, lowest + drop);
            }

            return negative ? -v : v;
        }
    }

    private readonly double? Special => _special switch
    {
        0 => null,
        HasPositiveInfinity => double.PositiveInfinity,
        HasNegativeInfinity => double.NegativeInfinity,
        _ => double.NaN,
    };

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(double value)
    {
        long bits = BitConverter.DoubleToInt64Bits(value);
        int biased = (int)((bits >> 52) & 0x7FF);
        if (biased == 0x7FF)
        {
            _special |= double.IsNaN(value) ? HasNaN : value > 0 ? HasPositiveInfinity : HasNegativeInfinity;
            return;
        }

        ulong mantissa = (ulong)bits & ((1UL << 52) - 1);
        if (biased == 0)
        {
            if (mantissa == 0)
            {
                return;
            }

            biased = 1;
        }
        else
        {
            mantissa |= 1UL << 52;
        }

        // value = mantissa * 2^(biased - 1075) = mantissa * 2^(biased - 1) units of 2^-1074.
        int shift = biased - 1;
        int limb = shift >> 5, offset = shift & 31;
        ulong low = mantissa << offset;
        long high = offset == 0 ? 0 : (long)(mantissa >> (64 - offset));
        long p0 = (long)(low & 0xFFFF_FFFF), p1 = (long)(low >> 32);
        if (bits < 0)
        {
            _limbs[limb] -= p0;
            _limbs[limb + 1] -= p1;
            _limbs[limb + 2] -= high;
        }
        else
        {
            _limbs[limb] += p0;
            _limbs[limb + 1] += p1;
            _limbs[limb + 2] += high;
        }

        if (++_pending == PendingLimit)
        {
            Normalize();
        }
    }

    /// <summary>Adds another exact sum (exactly).</summary>
    public void Add(in ExactSum other)
    {
        var o = other;
        o.Normalize();
        Normalize();
        for (int i = 0; i < LimbCount; i++)
        {
            _limbs[i] += o._limbs[i];
        }

        _special |= o._special;
        Normalize();
    }

    /// <summary>
    /// The exact value as text that <see cref="Parse"/> reads back: "nan", "+inf", "-inf", or a signed
    /// C99 hexadecimal float with an integer significand, e.g. "+0x1f4p-3" (= 62.5); Python's
    /// <c>float.fromhex</c> reads it too (rounding to float64).
    /// </summary>
    public readonly string ToExactString()
    {
        if (Special is { } s)
        {
            return double.IsNaN(s) ? "nan" : s > 0 ? "+inf" : "-inf";
        }

        var (magnitude, negative) = Integer();
        int exponent = -1074;
        if (magnitude.IsZero)
        {
            exponent = 0;
        }
        else
        {
            int zeros = (int)(BigInteger.TrailingZeroCount(magnitude) / 4);
            magnitude >>= 4 * zeros;
            exponent += 4 * zeros;
        }

        string digits = magnitude.ToString("x", CultureInfo.InvariantCulture).TrimStart('0').PadLeft(1, '0');
        return string.Create(CultureInfo.InvariantCulture, $"{(negative ? '-' : '+')}0x{digits}p{exponent}");
    }

    /// <summary>Reads <see cref="ToExactString"/>'s form.</summary>
    /// <exception cref="FormatException">The text is not such a value, or not a multiple of 2^-1074 within range.</exception>
    public static ExactSum Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sum = new ExactSum();
        switch (text)
        {
            case "nan":
                sum._special = HasNaN;
                return sum;
            case "+inf":
                sum._special = HasPositiveInfinity;
                return sum;
            case "-inf":
                sum._special = HasNegativeInfinity;
                return sum;
        }

        int p = text.IndexOf('p', StringComparison.Ordinal);
        if (text.Length < 5 || text.Length > 1000 || text[0] is not ('+' or '-') || !text.AsSpan(1).StartsWith("0x", StringComparison.Ordinal) || p < 4
            || !BigInteger.TryParse("0" + text[3..p], NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var magnitude)
            || !int.TryParse(text.AsSpan(p + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int exponent))
        {
            throw new FormatException($"'{Truncate(text)}' is not an exact sum (nan, +inf, -inf or a signed hexadecimal float such as +0x1f4p-3).");
        }

        if (!magnitude.IsZero)
        {
            if (exponent < -1074 || magnitude.GetBitLength() + exponent + 1074 > (LimbCount * 32) - 2)
            {
                throw new FormatException($"'{Truncate(text)}' is outside the range of an exact sum.");
            }

            magnitude <<= exponent + 1074;
        }

        var bytes = magnitude.ToByteArray(isUnsigned: true, isBigEndian: false);
        for (int i = 0; i < bytes.Length; i++)
        {
            sum._limbs[i / 4] += (long)bytes[i] << (8 * (i % 4));
        }

        if (text[0] == '-')
        {
            for (int i = 0; i < LimbCount; i++)
            {
                sum._limbs[i] = -sum._limbs[i];
            }
        }

        sum.Normalize();
        return sum;
    }

    public override readonly string ToString() => Value.ToString("R", CultureInfo.InvariantCulture);

    private readonly long Limb(int index) => index >= 0 ? _limbs[index] : 0;

    /// <summary>Moves carries up so that every limb but the top one is in [0, 2^32).</summary>
    private void Normalize()
    {
        long carry = 0;
        for (int i = 0; i < LimbCount - 1; i++)
        {
            long v = _limbs[i] + carry;
            carry = v >> 32;
            _limbs[i] = v & 0xFFFF_FFFF;
        }

        _limbs[LimbCount - 1] += carry;
        _pending = 0;
    }

    /// <summary>The sum's magnitude in units of 2^-1074, and its sign.</summary>
    private readonly (BigInteger Magnitude, bool Negative) Integer()
    {
        var copy = this;
        copy.Normalize();
        var value = BigInteger.Zero;
        for (int i = LimbCount - 1; i >= 0; i--)
        {
            value = (value << 32) + copy._limbs[i];
        }

        return (BigInteger.Abs(value), value.Sign < 0);
    }

    private static string Truncate(string s) => s.Length <= 40 ? s : s[..40] + "...";

    [InlineArray(LimbCount)]
    private struct Limbs
    {
        private long _element;
    }
}
