namespace GpuInfo;

/// <summary>
/// A table of co-occurrence counts n(x, y) from N paired samples. Beside the plug-in (maximum
/// likelihood) information of its normalised joint, which is biased upward for finite N, it gives
/// Miller and Madow's first-order correction and the G-test of independence, G = 2 N I (nats),
/// chi-squared with (r - 1)(c - 1) degrees of freedom over the r rows and c columns that hold a count.
/// </summary>
public sealed class ContingencyTable
{
    private ContingencyTable(JointDistribution joint, double samples, long cells, int rows, int columns)
    {
        Joint = joint;
        _mutualInformationNats = new Lazy<double>(() => joint.MutualInformation(InfoUnit.Nats));
        Samples = samples;
        NonzeroCells = cells;
        NonzeroRows = rows;
        NonzeroColumns = columns;
    }

    // The plug-in I(X;Y), one pass over the table, shared by the figures below.
    private readonly Lazy<double> _mutualInformationNats;

    /// <summary>The counts normalised into p(x, y).</summary>
    public JointDistribution Joint { get; }

    /// <summary>N, the sum of the counts.</summary>
    public double Samples { get; }

    public long NonzeroCells { get; }

    public int NonzeroRows { get; }

    public int NonzeroColumns { get; }

    /// <summary>Degrees of freedom of the G-test: (rows with a count - 1) (columns with a count - 1).</summary>
    public long DegreesOfFreedom => (long)(NonzeroRows - 1) * (NonzeroColumns - 1);

    /// <summary>
    /// Counts [x, y] (non-negative integers, as doubles, N at most 2^53 so that each is exact).
    /// </summary>
    /// <exception cref="InvalidInputException">A count is negative, fractional or not finite.</exception>
    public static ContingencyTable FromCounts(double[,] counts, string name = "counts")
    {
        ArgumentNullException.ThrowIfNull(counts);
        return FromOwnedCounts(JointDistribution.Flatten(counts), counts.GetLength(0), counts.GetLength(1), name);
    }

    /// <summary>As <see cref="FromCounts"/>, for counts [x, y] row-major in <paramref name="counts"/>, which becomes the joint's storage.</summary>
    internal static ContingencyTable FromOwnedCounts(double[] counts, int x, int y, string name = "counts")
    {
        ArgumentNullException.ThrowIfNull(counts);
        var rowUsed = new bool[x];
        var columnUsed = new bool[y];
        long cells = 0;
        double total = 0;
        for (int i = 0; i < x; i++)
        {
            for (int j = 0; j < y; j++)
            {
                double n = counts[((long)i * y) + j];
                if (!(n >= 0) || double.IsInfinity(n) || n != Math.Floor(n))
                {
                    throw new InvalidInputException(name, i, $"entry [{i}, {j}] is {n}; counts must be whole numbers >= 0.");
                }

                if (n > 0)
                {
                    cells++;
                    total += n;
                    rowUsed[i] = true;
                    columnUsed[j] = true;
                }
            }
        }

        if (total > 9007199254740992d)
        {
            throw new ArgumentException($"the counts sum to {total}, over 2^53, where a double no longer holds every count exactly.", name);
        }

        var joint = JointDistribution.FromOwnedWeights(counts, x, y, name);
        return new ContingencyTable(joint, total, cells, rowUsed.Count(u => u), columnUsed.Count(u => u));
    }

    /// <summary>
    /// I(X;Y) with Miller and Madow's correction of each entropy, H + (m - 1)/(2N) nats over its m
    /// nonzero cells: the plug-in value plus ((r - 1) + (c - 1) - (cells - 1))/(2N). Not clamped: it
    /// may fall below 0 where the variables are independent or nearly so.
    /// </summary>
    public double MillerMadowMutualInformation(InfoUnit unit = InfoUnit.Bits)
    {
        double correction = ((NonzeroRows - 1) + (NonzeroColumns - 1) - (NonzeroCells - 1)) / (2 * Samples);
        return unit.FromNats(_mutualInformationNats.Value + correction);
    }

    /// <summary>G = 2 N I(X;Y) in nats, the likelihood-ratio statistic of independence.</summary>
    public double GStatistic => 2 * Samples * _mutualInformationNats.Value;

    /// <summary>P(chi-squared with <see cref="DegreesOfFreedom"/> >= G): 1 where there are no degrees of freedom.</summary>
    public double PValue => DegreesOfFreedom == 0 ? 1 : Statistics.RegularizedGamma.Upper(DegreesOfFreedom / 2.0, GStatistic / 2);
}
