namespace GpuInfo;

/// <summary>A change in the number of distinct clusters between two neighbouring β of a sweep: a phase transition.</summary>
public sealed record IbTransition(double BetaHigh, double BetaLow, int ClustersHigh, int ClustersLow);

/// <summary>An IB curve: one solution per β (ascending β), the transitions found, and I(X;Y).</summary>
public sealed record IbCurve(IReadOnlyList<IbResult> Points, IReadOnlyList<IbTransition> Transitions, double IxyBits);

/// <summary>
/// Sweeps β from high to low, warm-starting each solve from the previous encoder (as well as the
/// random restarts), which follows one branch of solutions through the information plane.
/// </summary>
internal static class IbSweep
{
    public static IbCurve Run(IbProblem problem, IbOptions options, IReadOnlyList<double> betas, IProgress<IbIteration>? progress = null)
    {
        var descending = betas.OrderByDescending(b => b).ToArray();
        var points = new List<IbResult>();
        double[]? warm = null;
        int warmClusters = 0;
        foreach (double beta in descending)
        {
            var result = InformationBottleneck.Solve(problem, options with { Beta = beta }, warm, warmClusters, progress);
            points.Add(result);
            warm = result.Encoder;
            warmClusters = result.ClusterMarginal.Length;
        }

        points.Reverse();
        var transitions = new List<IbTransition>();
        for (int i = 1; i < points.Count; i++)
        {
            if (points[i].Clusters != points[i - 1].Clusters)
            {
                transitions.Add(new IbTransition(points[i].Beta, points[i - 1].Beta, points[i].Clusters, points[i - 1].Clusters));
            }
        }

        return new IbCurve(points, transitions, problem.IxyBits);
    }

    /// <summary>steps values from min to max, evenly spaced in log β (min must be &gt; 0 when steps &gt; 1).</summary>
    public static double[] LogSpaced(double min, double max, int steps)
    {
        if (steps < 1 || !(min > 0) || !(max >= min) || double.IsInfinity(max))
        {
            Guard.Throw("betas", $"need 0 < beta-min <= beta-max and steps >= 1 (got {min}, {max}, {steps}).");
        }

        if (steps == 1 && max != min)
        {
            Guard.Throw("betas", $"one step is one beta: beta-min and beta-max must then be equal (got {min} and {max}).");
        }

        if (steps > 1 && max == min)
        {
            Guard.Throw("betas", $"{steps} steps from beta {min} to itself would solve the same beta {steps} times: give beta-min < beta-max, or 1 step.");
        }

        if (steps == 1)
        {
            return [min];
        }

        // The ends exactly as given (exp(log(x)) can miss x by an ulp: 10.000000000000007).
        return [.. Enumerable.Range(0, steps).Select(i => i == 0 ? min : i == steps - 1 ? max : Math.Exp(Math.Log(min) + (Math.Log(max) - Math.Log(min)) * i / (steps - 1)))];
    }
}
