namespace GpuInfo;

/// <summary>
/// Σx and Σx² of a per-token value, exact (<see cref="ExactSum"/>), under the two names a partial
/// file gives them: enough for the mean and its standard error, mergeable in any order. A measure
/// that partials of older formats lack is restored unknown (<see cref="Known"/> false), and so is
/// every merge it takes part in: its mean and error are then NaN. A class, so that its sums are
/// added in place.
/// </summary>
internal sealed class MomentSums(string sumName, string squaresName)
{
    private ExactSum _sum;
    private ExactSum _squares;

    public string SumName { get; } = sumName;

    public string SquaresName { get; } = squaresName;

    public bool Known { get; private set; } = true;

    /// <summary>Σx, NaN where unknown.</summary>
    public double Sum => Known ? _sum.Value : double.NaN;

    /// <summary>Σx², NaN where unknown.</summary>
    public double Squares => Known ? _squares.Value : double.NaN;

    /// <summary>Both sums under their names (none where unknown, as an older partial lacks them).</summary>
    public IEnumerable<(string Name, ExactSum Sum)> Named => Known ? [(SumName, _sum), (SquaresName, _squares)] : [];

    public void Add(double value)
    {
        _sum.Add(value);
        _squares.Add(value * value);
    }

    /// <summary>A value that was not known for some token makes the measure unknown.</summary>
    public void Forget() => Known = false;

    public void Merge(MomentSums other)
    {
        Known &= other.Known;
        _sum.Add(in other._sum);
        _squares.Add(in other._squares);
    }

    /// <summary>The sums as a partial saved them, or unknown where it has neither.</summary>
    /// <exception cref="ArgumentException">One of the two without the other.</exception>
    public void Restore(IReadOnlyDictionary<string, ExactSum> sums)
    {
        Known = sums.TryGetValue(SumName, out _sum);
        if (Known != sums.TryGetValue(SquaresName, out _squares))
        {
            throw new ArgumentException($"the sums have {(Known ? SumName : SquaresName)} but no {(Known ? SquaresName : SumName)}.", nameof(sums));
        }
    }

    /// <summary>Refuses restored sums of <paramref name="count"/> values that no values give (<see cref="SumChecks.Squares"/>); nothing where unknown.</summary>
    public void CheckSquares(long count)
    {
        if (Known)
        {
            SumChecks.Squares(SumField, _sum.Value, SquaresField, _squares.Value, count);
        }
    }

    /// <summary>The same for values that cannot be negative (<paramref name="values"/> names them).</summary>
    public void CheckNotNegative(long count, string values)
    {
        if (Known)
        {
            SumChecks.NotNegative(SumField, _sum.Value, count, values);
            CheckSquares(count);
        }
    }

    /// <summary>The same for values within [<paramref name="low"/>, <paramref name="high"/>] (<see cref="SumChecks.Within"/>).</summary>
    public void CheckWithin(long count, double low, double high, string values)
    {
        if (Known)
        {
            SumChecks.Within(SumField, _sum.Value, SquaresField, _squares.Value, count, low, high, values);
        }
    }

    private string SumField => $"exact_sums.{SumName}";

    private string SquaresField => $"exact_sums.{SquaresName}";

    /// <summary>The mean over <paramref name="count"/> tokens, NaN where unknown.</summary>
    public double Mean(long count) => Sum / count;

    /// <summary>The standard error of <see cref="Mean"/>, NaN where unknown or below two tokens.</summary>
    public double MeanError(long count) => Known ? Uncertainty.Mean(_sum.Value, _squares.Value, count).Error : double.NaN;
}
