using System.Runtime.InteropServices;

namespace GpuInfo;

/// <summary>Channel capacity and the optimal input distribution.</summary>
public sealed record CapacityResult(double CapacityBits, double[] Input, double UpperBoundBits, double LowerBoundBits, int Iterations, bool Converged);

/// <summary>One point of the rate-distortion function: the rate (bits) and expected distortion at slope -β.</summary>
public sealed record RateDistortionResult(double Beta, double RateBits, double Distortion, double[] Reproduction, int Iterations, bool Converged);

/// <summary>
/// Blahut-Arimoto: channel capacity with the standard stopping rule (upper bound max_x D(x) minus
/// lower bound log Σ r(x)e^{D(x)} below a tolerance), and rate-distortion at a given β with
/// q(x̂|x) ∝ q(x̂)·exp(-β·d(x, x̂)) (natural exp), rate reported in bits.
/// </summary>
public static class BlahutArimoto
{
    /// <summary>Capacity of a channel W[x, y] = p(y|x) (rows must sum to 1).</summary>
    /// <exception cref="InvalidInputException">A row has a negative or non-finite entry, or does not sum to 1.</exception>
    public static CapacityResult Capacity(double[,] channel, double tolerance = 1e-12, int maxIterations = 1_000_000)
    {
        ArgumentNullException.ThrowIfNull(channel);
        int nx = channel.GetLength(0), ny = channel.GetLength(1);
        if (nx == 0 || ny == 0)
        {
            Guard.Throw(nameof(channel), $"the channel is empty ([{nx}, {ny}]).");
        }

        for (int i = 0; i < nx; i++)
        {
            double sum = 0;
            for (int j = 0; j < ny; j++)
            {
                double w = channel[i, j];
                if (!(w >= 0) || double.IsInfinity(w))
                {
                    throw new InvalidInputException(nameof(channel), i, $"entry [{i}, {j}] is {w}; transition probabilities must be finite and >= 0.");
                }

                sum += w;
            }

            if (Math.Abs(sum - 1) > 1e-6)
            {
                throw new InvalidInputException(nameof(channel), i, $"sums to {sum}; each row of W[x][y] = p(y|x) must sum to 1.");
            }
        }

        var r = Enumerable.Repeat(1.0 / nx, nx).ToArray();
        var d = new double[nx];
        var q = new double[ny];
        double lower = 0, upper = double.PositiveInfinity;
        int it = 0;
        bool converged = false;
        for (; it < maxIterations; it++)
        {
            Array.Clear(q);
            ColumnSums(nx, ny, (int i, int j0, int width, out double weight) =>
            {
                weight = r[i];
                return MemoryMarshal.CreateReadOnlySpan(ref channel[i, j0], width);
            }, q);
            Parallel.For(0, nx, i =>
            {
                var row = MemoryMarshal.CreateReadOnlySpan(ref channel[i, 0], ny);
                double di = 0;
                for (int j = 0; j < row.Length; j++)
                {
                    double w = row[j];
                    di += w > 0 ? w * Math.Log(w / q[j]) : 0;
                }

                d[i] = di;
            });

            double z = 0;
            upper = double.NegativeInfinity;
            for (int i = 0; i < nx; i++)
            {
                z += r[i] * Math.Exp(d[i]);
                upper = Math.Max(upper, d[i]);
            }

            lower = Math.Log(z);
            if (upper - lower < tolerance)
            {
                converged = true;
                break;
            }

            for (int i = 0; i < nx; i++)
            {
                r[i] *= Math.Exp(d[i]) / z;
            }
        }

        double ln2 = Math.Log(2);
        return new CapacityResult(lower / ln2, r, upper / ln2, lower / ln2, it, converged);
    }

    /// <summary>Row <paramref name="row"/>'s columns j0 to j0 + width, and the row's weight.</summary>
    private delegate ReadOnlySpan<double> WeightedRow(int row, int j0, int width, out double weight);

    /// <summary>
    /// sums[j] += Σ_i weight(i)·row_i[j], over the rows in order for each column (the bits of one
    /// sequential loop), with blocks of columns on separate threads.
    /// </summary>
    private static void ColumnSums(int rows, int columns, WeightedRow row, double[] sums)
    {
        const int Block = 1024;
        Parallel.For(0, (columns + Block - 1) / Block, block =>
        {
            int j0 = block * Block, width = Math.Min(Block, columns - j0);
            var s = sums.AsSpan(j0, width);
            for (int i = 0; i < rows; i++)
            {
                var values = row(i, j0, width, out double weight);
                for (int j = 0; j < width; j++)
                {
                    s[j] += weight * values[j];
                }
            }
        });
    }

    /// <summary>R(D) at slope -β for a source p(x) and distortion d[x, x̂].</summary>
    /// <exception cref="InvalidInputException">Negative or non-finite source or distortion entries.</exception>
    public static RateDistortionResult RateDistortion(double[] source, double[,] distortion, double beta,
        double tolerance = 1e-14, int maxIterations = 1_000_000)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(distortion);
        int nx = source.Length, nh = distortion.GetLength(1);
        if (distortion.GetLength(0) != nx || nx == 0 || nh == 0)
        {
            Guard.Throw(nameof(distortion), $"distortion is [{distortion.GetLength(0)}, {nh}] but the source has {nx} symbols.");
        }

        if (!(beta >= 0) || double.IsInfinity(beta))
        {
            Guard.Throw(nameof(beta), $"beta must be finite and >= 0, got {beta}.");
        }

        double total = 0;
        for (int i = 0; i < nx; i++)
        {
            if (!(source[i] >= 0) || double.IsInfinity(source[i]))
            {
                throw new InvalidInputException(nameof(source), i, $"p(x) = {source[i]}; probabilities must be finite and >= 0.");
            }

            total += source[i];
            for (int j = 0; j < nh; j++)
            {
                if (!(distortion[i, j] >= 0) || double.IsInfinity(distortion[i, j]))
                {
                    throw new InvalidInputException(nameof(distortion), i, $"entry [{i}, {j}] is {distortion[i, j]}; distortions must be finite and >= 0.");
                }
            }
        }

        if (!(total > 0))
        {
            Guard.Throw(nameof(source), "the source probabilities sum to 0.");
        }

        var p = source.Select(v => v / total).ToArray();
        var qh = Enumerable.Repeat(1.0 / nh, nh).ToArray();
        var cond = new double[nx * nh];

        // e^(-β (d - min d)) does not change between iterations: taken once. The row's smallest
        // distortion is taken out (its factor cancels in the normalisation), so that a row's
        // largest entry is 1: e^(-β d) itself underflowed to 0 in whole rows once β·d passed ~745
        // (Hamming + 1 at β = 800), and 0/0 made the rate and distortion 0.
        var exponentials = new double[nx * nh];
        var shift = new double[nx];
        Parallel.For(0, nx, i =>
        {
            double least = double.PositiveInfinity;
            for (int j = 0; j < nh; j++)
            {
                least = Math.Min(least, distortion[i, j]);
            }

            shift[i] = least;
            for (int j = 0; j < nh; j++)
            {
                exponentials[i * nh + j] = Math.Exp(-beta * (distortion[i, j] - least));
            }
        });
        var rateTerms = new double[nx * nh];
        double previous = double.NaN, rate = 0, dist = 0;
        int it = 0;
        bool converged = false;
        for (; it < maxIterations; it++)
        {
            Parallel.For(0, nx, i =>
            {
                var row = cond.AsSpan(i * nh, nh);
                double z = 0;
                for (int j = 0; j < nh; j++)
                {
                    row[j] = qh[j] * exponentials[i * nh + j];
                    z += row[j];
                }

                if (!(z > 0))
                {
                    // Every reproduction this row could use has lost its mass to underflow: the
                    // same update in log space.
                    z = LogSpaceRow(qh, distortion, i, shift[i], beta, row);
                }

                for (int j = 0; j < nh; j++)
                {
                    row[j] /= z;
                }
            });

            var next = new double[nh];
            ColumnSums(nx, nh, (int i, int j0, int width, out double weight) =>
            {
                weight = p[i];
                return cond.AsSpan((i * nh) + j0, width);
            }, next);

            // The rate's terms (their logs) in parallel, then both sums in the one sequential order: at
            // the default tolerance the stopping point is sensitive to the sums' last bits.
            Parallel.For(0, nx, i =>
            {
                for (int j = 0; j < nh; j++)
                {
                    double c = cond[i * nh + j];
                    rateTerms[i * nh + j] = c > 0 ? p[i] * c * Math.Log(c / next[j]) : 0;
                }
            });
            (rate, dist) = (0, 0);
            for (int i = 0; i < nx; i++)
            {
                for (int j = 0; j < nh; j++)
                {
                    double c = cond[i * nh + j];
                    if (c > 0)
                    {
                        rate += rateTerms[i * nh + j];
                        dist += p[i] * c * distortion[i, j];
                    }
                }
            }

            qh = next;
            double objective = rate + beta * dist;
            if (Math.Abs(objective - previous) < tolerance)
            {
                converged = true;
                break;
            }

            previous = objective;
        }

        return new RateDistortionResult(beta, Math.Max(0, rate) / Math.Log(2), dist, qh, it, converged);
    }

    /// <summary>row[j] = q(x̂_j)·e^(-β(d - shift)), scaled by a common factor so that its largest entry is 1; returns its sum.</summary>
    private static double LogSpaceRow(double[] qh, double[,] distortion, int i, double shift, double beta, Span<double> row)
    {
        double most = double.NegativeInfinity;
        for (int j = 0; j < row.Length; j++)
        {
            row[j] = qh[j] > 0 ? Math.Log(qh[j]) - (beta * (distortion[i, j] - shift)) : double.NegativeInfinity;
            most = Math.Max(most, row[j]);
        }

        double z = 0;
        for (int j = 0; j < row.Length; j++)
        {
            row[j] = Math.Exp(row[j] - most);
            z += row[j];
        }

        return z;
    }
}
