using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace GpuInfo;

/// <summary>
/// A discrete joint distribution p(x, y) on [X, Y], normalised from non-negative weights (counts or
/// probabilities), with its marginals and the entropies and mutual information derived from it.
/// </summary>
public sealed class JointDistribution
{
    private JointDistribution(double[] p, int x, int y)
    {
        P = p;
        X = x;
        Y = y;
        Px = new double[x];
        Py = new double[y];
        var px = Px;
        Parallel.For(0, x, i => px[i] = Sum(p.AsSpan(i * y, y)));

        // Each column's sum runs over the rows in order, columns split into blocks between threads.
        var py = Py;
        Parallel.For(0, (y + ColumnBlock - 1) / ColumnBlock, block =>
        {
            int j0 = block * ColumnBlock, width = Math.Min(ColumnBlock, y - j0);
            var sums = py.AsSpan(j0, width);
            for (int i = 0; i < x; i++)
            {
                var row = p.AsSpan((i * y) + j0, width);
                for (int j = 0; j < width; j++)
                {
                    sums[j] += row[j];
                }
            }
        });
    }

    /// <summary>Columns whose p(y) one thread sums (8 KiB of each row).</summary>
    private const int ColumnBlock = 1024;

    public int X { get; }

    public int Y { get; }

    /// <summary>p(x, y), row-major [X, Y], summing to 1.</summary>
    public double[] P { get; }

    public double[] Px { get; }

    public double[] Py { get; }

    /// <summary>Normalises non-negative finite weights into a joint distribution.</summary>
    /// <exception cref="InvalidInputException">An entry is negative or not finite, or everything is 0.</exception>
    public static JointDistribution FromWeights(double[,] weights, string name = "joint")
    {
        ArgumentNullException.ThrowIfNull(weights);
        return FromOwnedWeights(Flatten(weights), weights.GetLength(0), weights.GetLength(1), name);
    }

    /// <summary>A copy of <paramref name="weights"/>, row-major.</summary>
    internal static double[] Flatten(double[,] weights)
    {
        int x = weights.GetLength(0), y = weights.GetLength(1);
        var p = new double[(long)x * y];
        if (p.Length > 0)
        {
            Parallel.For(0, x, i => MemoryMarshal.CreateReadOnlySpan(ref weights[i, 0], y).CopyTo(p.AsSpan(i * y, y)));
        }

        return p;
    }

    /// <summary>
    /// As <see cref="FromWeights"/>, for weights [x, y] row-major in <paramref name="p"/>, which becomes
    /// the distribution's storage (normalised in place): the CLI reads a joint straight into it.
    /// </summary>
    internal static JointDistribution FromOwnedWeights(double[] p, int x, int y, string name = "joint")
    {
        if (x == 0 || y == 0)
        {
            throw new ArgumentException($"the joint distribution is empty ([{x}, {y}]).", name);
        }

        var rowTotals = new double[x];
        int firstBad = int.MaxValue;
        Parallel.For(0, x, i =>
        {
            var row = p.AsSpan(i * y, y);
            for (int j = 0; j < y; j++)
            {
                if (!(row[j] >= 0) || double.IsInfinity(row[j]))
                {
                    InterlockedMin(ref firstBad, i);
                    return;
                }
            }

            rowTotals[i] = Sum(row);
        });
        if (firstBad != int.MaxValue)
        {
            int j = Array.FindIndex(p, firstBad * y, y, w => !(w >= 0) || double.IsInfinity(w)) - (firstBad * y);
            throw new InvalidInputException(name, firstBad, $"entry [{firstBad}, {j}] is {p[(firstBad * y) + j]}; probabilities and counts must be finite and >= 0.");
        }

        double total = Sum(rowTotals);
        if (!(total > 0) || double.IsInfinity(total))
        {
            throw new ArgumentException($"the entries sum to {total}; a distribution needs a positive finite total.", name);
        }

        Parallel.For(0, x, i => TensorPrimitives.Divide(p.AsSpan(i * y, y), total, p.AsSpan(i * y, y)));
        return new JointDistribution(p, x, y);
    }

    public double EntropyX(InfoUnit unit = InfoUnit.Bits) => unit.FromNats(Entropy(Px));

    public double EntropyY(InfoUnit unit = InfoUnit.Bits) => unit.FromNats(Entropy(Py));

    public double JointEntropy(InfoUnit unit = InfoUnit.Bits) => unit.FromNats(Entropy(P));

    /// <summary>H(Y|X) = H(X,Y) - H(X).</summary>
    public double ConditionalEntropyYGivenX(InfoUnit unit = InfoUnit.Bits) => unit.FromNats(Entropy(P) - Entropy(Px));

    /// <summary>
    /// log(p / (a·b)) for p &lt;= min(a, b), all positive: as a ratio (accurate near 1, where I(X;Y) is
    /// small), or as a difference of logs where the ratio leaves double's range (a·b underflowed to 0
    /// for probabilities below 1e-154, and log(p/0) is ∞).
    /// </summary>
    internal static double LogRatio(double p, double a, double b)
    {
        double ratio = p / a / b;
        return double.IsFinite(ratio) && ratio > 0 ? Math.Log(ratio) : Math.Log(p) - Math.Log(a) - Math.Log(b);
    }

    /// <summary>I(X;Y) = Σ p(x,y) log(p(x,y) / (p(x)p(y))), computed termwise (never as a difference of entropies).</summary>
    public double MutualInformation(InfoUnit unit = InfoUnit.Bits)
    {
        var rows = new double[X];
        Parallel.For(0, X, i =>
        {
            double mi = 0;
            for (int j = 0; j < Y; j++)
            {
                double pxy = P[i * Y + j];
                if (pxy > 0)
                {
                    mi += pxy * LogRatio(pxy, Px[i], Py[j]);
                }
            }

            rows[i] = mi;
        });
        return unit.FromNats(Math.Max(0, Sum(rows)));
    }

    /// <summary>A plain left-to-right sum: the same bits whatever the thread that runs it.</summary>
    private static double Sum(ReadOnlySpan<double> values)
    {
        double sum = 0;
        foreach (double v in values)
        {
            sum += v;
        }

        return sum;
    }

    private static void InterlockedMin(ref int target, int value)
    {
        int current = Volatile.Read(ref target);
        while (value < current)
        {
            int seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }

    /// <summary>-Σ p log p in nats, with 0 log 0 = 0.</summary>
    public static double Entropy(ReadOnlySpan<double> p)
    {
        double h = 0;
        foreach (double v in p)
        {
            if (v > 0)
            {
                h -= v * Math.Log(v);
            }
        }

        return h;
    }
}
