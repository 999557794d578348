namespace GpuInfo;

/// <summary>
/// What the restored sums of a partial must satisfy whatever its tokens' values were: a measure that
/// cannot be negative has no negative sum, a sum of squares agrees with its sum, a bounded measure's
/// sums stay within its bounds. A violation is an <see cref="ArgumentException"/> naming the field,
/// which loading reports as a damaged file. The sums are exact, but reading them rounds to float64 and
/// the values themselves were computed in float32, so each check leaves room for that rounding. Only
/// bounded measures refuse NaN: an unbounded one can be undefined for a token (the log ratio where
/// both models give the target no probability).
/// </summary>
internal static class SumChecks
{
    /// <summary>
    /// How far below 0, per token, the sum of a measure that cannot be negative may lie: float32 can
    /// give such a value a little below 0 where the exact one is about 0 (the KL of near-equal rows, to
    /// about 1e-12); far above that rounding, far below any damage that would change a report.
    /// </summary>
    private const double BelowZeroPerToken = 1e-6;

    /// <summary>Room for the float64 rounding of the sums, of float64 values' squares (Δp, the log ratio) and of the products that compare them.</summary>
    private const double Rounding = 1e-9;

    /// <summary>Products of sums this small are dominated by subnormal rounding and checked no further.</summary>
    private const double Negligible = 1e-300;

    /// <summary>Room for a float32 value that passes its measure's bound by a few ulps (a total variation of 1.0000002).</summary>
    private const double BoundRoom = 1e-4;

    /// <summary>The sum of <paramref name="tokens"/> values of a measure that cannot be negative (<paramref name="values"/> names them).</summary>
    public static void NotNegative(string field, double sum, long tokens, string values)
    {
        if (sum < -BelowZeroPerToken * tokens)
        {
            throw new ArgumentException($"{field} is {sum}, but a sum of {values} cannot be negative.", field);
        }
    }

    /// <summary>
    /// Σx and Σx² of the same <paramref name="tokens"/> values: Σx² ≥ 0 and n·Σx² ≥ (Σx)² (the values'
    /// variance is not negative), which the standard error of their mean takes for granted.
    /// </summary>
    public static void Squares(string sumField, double sum, string squaresField, double squares, long tokens)
    {
        if (squares < 0)
        {
            throw new ArgumentException($"{squaresField} is {squares}, but a sum of squares cannot be negative.", squaresField);
        }

        if (tokens == 0 && (sum != 0 || squares != 0))
        {
            throw new ArgumentException($"{sumField} and {squaresField} are {sum} and {squares}, but there are no tokens to sum.", sumField);
        }

        double least = sum * sum;
        if (tokens * squares < least * (1 - Rounding) - Negligible)
        {
            throw new ArgumentException($"{squaresField} is {squares}, but {tokens} values summing to {sum} ({sumField}) have squares summing to at least {least / tokens}.", squaresField);
        }
    }

    /// <summary>
    /// Σx and Σx² of <paramref name="tokens"/> values each within [<paramref name="low"/>, <paramref name="high"/>]
    /// (<paramref name="values"/> names them; the interval holds 0): the sum within n times the
    /// interval, the squares at most n times the larger square, and <see cref="Squares"/>.
    /// </summary>
    public static void Within(string sumField, double sum, string squaresField, double squares, long tokens, double low, double high, string values)
    {
        double widest = Math.Max(-low, high), room = BoundRoom * widest * tokens;
        if (!(sum >= (low * tokens) - room && sum <= (high * tokens) + room))
        {
            throw new ArgumentException($"{sumField} is {sum}, but {tokens} {values}, each in [{low}, {high}], sum to within [{low * tokens}, {high * tokens}].", sumField);
        }

        if (squares > widest * widest * tokens * (1 + (3 * BoundRoom)))
        {
            throw new ArgumentException($"{squaresField} is {squares}, but the squares of {tokens} {values}, each in [{low}, {high}], sum to at most {widest * widest * tokens}.", squaresField);
        }

        Squares(sumField, sum, squaresField, squares, tokens);
    }

    /// <summary>Σab with Σa² and Σb² of the same tokens: (Σab)² ≤ Σa²·Σb² (Cauchy–Schwarz), which their correlation takes for granted.</summary>
    public static void CrossProduct(string crossField, double cross, string squaresFieldA, double squaresA, string squaresFieldB, double squaresB)
    {
        double most = squaresA * squaresB;
        if (cross * cross > (most * (1 + Rounding)) + Negligible)
        {
            throw new ArgumentException($"{crossField} is {cross}, but its square exceeds {squaresFieldA} times {squaresFieldB} ({most}).", crossField);
        }
    }
}
