namespace GpuInfo;

/// <summary>
/// lm-evaluation-harness's bootstrap standard error (<c>lm_eval.api.metrics.bootstrap_stderr</c>), draw for draw: the
/// iterations run in chunks of min(1000, iterations), chunk i drawing its resamples with <c>random.Random(i)</c>'s
/// <c>choices(values, k=len(values))</c> (<see cref="PythonRandom"/>), ⌊iterations / chunk⌋ chunks in all, and the error
/// is the sample standard deviation (n − 1) of the statistic over the resamples. The chunks run on every core; each
/// sum runs left to right as Python's <c>sum</c> did before 3.12 (3.12's compensated <c>sum</c> differs in the last
/// bits of each mean, far below the bootstrap's own noise).
/// </summary>
public static class HarnessBootstrap
{
    /// <summary>The harness's default <c>bootstrap_iters</c>.</summary>
    public const int DefaultIterations = 100_000;

    /// <summary>A statistic of a sample (a resample of the values).</summary>
    public delegate double Statistic(ReadOnlySpan<double> sample);

    /// <summary>The harness's <c>perplexity</c> aggregation: exp of minus the mean log-likelihood.</summary>
    public static double Perplexity(ReadOnlySpan<double> logLikelihoods) => Math.Exp(-Mean(logLikelihoods));

    /// <summary>The bootstrap standard error of the harness's <c>perplexity</c> over per-document log-likelihoods (its <c>perplexity_stderr</c>: LAMBADA's).</summary>
    public static double PerplexityStderr(IReadOnlyList<double> logLikelihoods, int iterations = DefaultIterations) => Stderr(logLikelihoods, Perplexity, iterations);

    /// <summary>The bootstrap standard error of <paramref name="statistic"/> over <paramref name="values"/>; NaN for fewer than two values, where the harness reports none.</summary>
    public static double Stderr(IReadOnlyList<double> values, Statistic statistic, int iterations = DefaultIterations)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(statistic);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 2);
        if (values.Count < 2)
        {
            return double.NaN;
        }

        double[] population = [.. values];
        int chunk = Math.Min(1000, iterations), chunks = iterations / chunk;
        var replicates = new double[chunks * chunk];
        Parallel.For(0, chunks, () => (new double[population.Length], new int[population.Length]), (c, _, buffers) =>
        {
            var (sample, indices) = buffers;
            var random = new PythonRandom((ulong)c);
            for (int r = 0; r < chunk; r++)
            {
                random.ChoiceIndices(population.Length, indices);
                for (int i = 0; i < sample.Length; i++)
                {
                    sample[i] = population[indices[i]];
                }

                replicates[(c * chunk) + r] = statistic(sample);
            }

            return buffers;
        }, _ => { });
        return SampleStddev(replicates);
    }

    private static double Mean(ReadOnlySpan<double> values)
    {
        double sum = 0;
        foreach (double v in values)
        {
            sum += v;
        }

        return sum / values.Length;
    }

    private static double SampleStddev(ReadOnlySpan<double> values)
    {
        double mean = Mean(values), sum = 0;
        foreach (double v in values)
        {
            sum += (v - mean) * (v - mean);
        }

        return Math.Sqrt(sum / (values.Length - 1));
    }
}
