using System.Numerics.Tensors;

namespace GpuInfo;

/// <summary>Channel capacity and the optimal input distribution.</summary>
/// <param name="Products">Where each iteration's pass over the channel ran ("cpu, float64 SIMD", or the accelerator and its kernels).</param>
public sealed record CapacityResult(double CapacityBits, double[] Input, double UpperBoundBits, double LowerBoundBits, int Iterations, bool Converged, string Products = "cpu, float64 SIMD");

/// <summary>
/// One point of the rate-distortion function at slope -β: the rate (bits, an upper bound on R at
/// <see cref="Distortion"/>), the expected distortion, the reproduction distribution, and Blahut's
/// lower bound on R at that distortion.
/// </summary>
/// <param name="Products">Where each iteration's pass over e^(-β d) ran ("cpu, float64 SIMD", or the accelerator and its kernels).</param>
public sealed record RateDistortionResult(double Beta, double RateBits, double Distortion, double[] Reproduction, double LowerBoundBits, int Iterations, bool Converged, string Products = "cpu, float64 SIMD");

/// <summary>
/// Blahut-Arimoto: channel capacity with the standard stopping rule (upper bound max_x D(x) minus
/// lower bound log Σ r(x)e^{D(x)} below a tolerance), and rate-distortion at a given β with
/// q(x̂|x) ∝ q(x̂)·exp(-β·d(x, x̂)) (natural exp), rate reported in bits.
/// </summary>
public static class BlahutArimoto
{
    /// <summary>
    /// Capacity of a channel W[x, y] = p(y|x). Rows must sum to 1 within 1e-6; each is taken divided by
    /// its sum (a row of sum 1 + 9e-7 taken as it came moved the capacity by 2e-7 bits, to the
    /// capacity of no channel). The caller's array is not changed.
    /// </summary>
    /// <exception cref="InvalidInputException">A row has a negative or non-finite entry, or does not sum to 1.</exception>
    public static CapacityResult Capacity(double[,] channel, double tolerance = 1e-12, int maxIterations = 1_000_000) =>
        Capacity(channel, tolerance, maxIterations, IBlahutArimotoPass.Cpu, check: null);

    /// <summary>
    /// <see cref="Capacity(double[,], double, int)"/> with each iteration's pass over W made by
    /// <paramref name="passes"/> (the CPU's, or a device's), and <paramref name="check"/> called before
    /// each iteration (cancellation).
    /// </summary>
    internal static CapacityResult Capacity(double[,] channel, double tolerance, int maxIterations, BlahutArimotoPasses passes, Action? check)
    {
        ArgumentNullException.ThrowIfNull(channel);
        CheckStopping(tolerance, maxIterations);
        int nx = channel.GetLength(0), ny = channel.GetLength(1);
        if (nx == 0 || ny == 0)
        {
            Guard.Throw(nameof(channel), $"the channel is empty ([{nx}, {ny}]).");
        }

        var scale = new double[nx];
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

            scale[i] = 1 / sum;
        }

        // D(x) = D(W(.|x) || q) = Σ_y W ln W - Σ_y W ln q: the first sum is taken once, the second is
        // a dot product with ln q, and the next q is summed in the same pass over W from r(x)·e^D(x)
        // (at most 1, since q(y) >= r(x)·W(y|x)), normalised after: one read of W an iteration and
        // no log per entry. (Σ W ln(W/q) per entry took 70 ms an iteration at 2048 x 8191.) W is the
        // caller's row times its scale, 1/sum.
        var r = Enumerable.Repeat(1.0 / nx, nx).ToArray();
        var negEntropy = new double[nx];
        var used = new bool[ny];
        Parallel.For(0, nx, i =>
        {
            var row = Row(channel, i);
            double s = 0;
            for (int j = 0; j < row.Length; j++)
            {
                if (row[j] > 0)
                {
                    s += row[j] * Math.Log(row[j]);
                    used[j] = true;
                }
            }

            negEntropy[i] = (s * scale[i]) + Math.Log(scale[i]);
        });
        using var pass = passes(channel, null, null);
        var q = new double[ny];
        var logQ = new double[ny];
        pass.Pass(logQ, (i, _, _) => r[i] * scale[i], q);
        var d = new double[nx];
        var weighted = new double[nx];
        var dead = new bool[nx];
        var next = new double[ny];
        double lower = 0, upper = double.PositiveInfinity;
        int it = 0;
        bool converged = false;
        for (; it < maxIterations; it++)
        {
            check?.Invoke();

            // An output no input reaches has q(y) = 0 and adds nothing (its ln q is taken as 0). A
            // q(y) of 0 where W reaches y is r(x)·W(y|x) lost to underflow: its ln q is taken in log
            // space from r and W (a column's worth on the host; the pass is unchanged), and where
            // every input reaching y has r(x) = 0 those inputs' D(x) is +inf (their weight stays 0).
            // (Taking D(x) term by term here made it +inf for an input with r(x) > 0, and r NaN.)
            bool lost = false;
            for (int j = 0; j < ny; j++)
            {
                lost |= used[j] && !(q[j] > 0);
                logQ[j] = used[j] ? Math.Log(q[j]) : 0;
            }

            if (lost)
            {
                LostOutputs(channel, scale, r, used, q, logQ, dead);
            }

            pass.Pass(logQ, (i, dot, _) =>
            {
                double di = lost && dead[i] ? double.PositiveInfinity : negEntropy[i] - (scale[i] * dot);
                double w = r[i] > 0 ? r[i] * Math.Exp(di) : 0;
                d[i] = di;
                weighted[i] = w;
                return w > 0 ? w * scale[i] : 0;
            }, next);

            double z = 0;
            upper = double.NegativeInfinity;
            for (int i = 0; i < nx; i++)
            {
                z += weighted[i];
                upper = Math.Max(upper, d[i]);
            }

            lower = Math.Log(z);
            if (upper - lower < tolerance)
            {
                converged = true;
                break;
            }

            TensorPrimitives.Divide(weighted, z, r);
            TensorPrimitives.Divide(next, z, q);
        }

        double ln2 = Math.Log(2);
        return new CapacityResult(lower / ln2, r, upper / ln2, lower / ln2, it, converged, pass.Name);
    }

    private static ReadOnlySpan<double> Row(double[,] matrix, int i) => CpuBlahutArimotoPass.Row(matrix, i);

    /// <summary>
    /// For each output y that W reaches but whose q(y) is 0: ln q(y) = ln Σ_x r(x)·scale(x)·W(x, y) in
    /// log space (the largest term taken out), or, where every input reaching y has r(x) = 0, 0 with
    /// those inputs marked in <paramref name="dead"/>.
    /// </summary>
    private static void LostOutputs(double[,] channel, double[] scale, double[] r, bool[] used, double[] q, double[] logQ, bool[] dead)
    {
        int nx = channel.GetLength(0), ny = channel.GetLength(1);
        Array.Clear(dead);
        for (int j = 0; j < ny; j++)
        {
            if (!used[j] || q[j] > 0)
            {
                continue;
            }

            double most = double.NegativeInfinity;
            for (int i = 0; i < nx; i++)
            {
                if (channel[i, j] > 0 && r[i] > 0)
                {
                    most = Math.Max(most, Math.Log(r[i]) + Math.Log(scale[i] * channel[i, j]));
                }
            }

            if (most == double.NegativeInfinity)
            {
                logQ[j] = 0;
                for (int i = 0; i < nx; i++)
                {
                    dead[i] |= channel[i, j] > 0;
                }

                continue;
            }

            double sum = 0;
            for (int i = 0; i < nx; i++)
            {
                if (channel[i, j] > 0 && r[i] > 0)
                {
                    sum += Math.Exp(Math.Log(r[i]) + Math.Log(scale[i] * channel[i, j]) - most);
                }
            }

            logQ[j] = most + Math.Log(sum);
        }
    }

    /// <summary>The default of <see cref="RateDistortion(double[], double[,], double, double, int)"/>'s tolerance, in nats.</summary>
    public const double DefaultRateTolerance = 1e-12;

    /// <summary>
    /// R(D) at slope -β for a source p(x) and distortion d[x, x̂]. Each iteration's test channel gives
    /// an upper bound on R at its distortion D (its rate, reported) and Blahut's (1972) lower bound
    /// there: the rate less ln max_x̂ c(x̂) - D(q' || q), where c(x̂) = Σ_x p(x)e^(-βd)/Σ_x̂ q e^(-βd)
    /// and q' is the next reproduction distribution. It stops when they are within
    /// <paramref name="tolerance"/> nats (<see cref="RateDistortionResult.LowerBoundBits"/> reports the
    /// lower bound).
    /// </summary>
    /// <exception cref="InvalidInputException">Negative or non-finite source or distortion entries.</exception>
    public static RateDistortionResult RateDistortion(double[] source, double[,] distortion, double beta,
        double tolerance = DefaultRateTolerance, int maxIterations = 1_000_000) =>
        RateDistortion(source, distortion, beta, tolerance, maxIterations, IBlahutArimotoPass.Cpu, check: null);

    /// <summary>
    /// <see cref="RateDistortion(double[], double[,], double, double, int)"/> with each iteration's pass
    /// over e^(-β(d - shift)) made by <paramref name="passes"/> (the CPU's, or a device's), and
    /// <paramref name="check"/> called before each iteration (cancellation).
    /// </summary>
    internal static RateDistortionResult RateDistortion(double[] source, double[,] distortion, double beta,
        double tolerance, int maxIterations, BlahutArimotoPasses passes, Action? check)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(distortion);
        CheckStopping(tolerance, maxIterations);
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

        if (!(total > 0) || double.IsInfinity(total))
        {
            // An infinite sum made every p(x) = v/∞ = 0: rate and distortion 0.
            Guard.Throw(nameof(source), $"the source probabilities sum to {total}; they must sum to a finite positive number.");
        }

        var p = source.Select(v => v / total).ToArray();
        if (beta == 0)
        {
            return ZeroSlope(p, distortion);
        }

        // Below the curve's slope at D_max, rate 0 at D_max is the point itself. The iteration would
        // crawl there (each step scales q by 1 + O(β)) and, its gap already below the tolerance at the
        // uniform start, stop at once at that start's larger distortion: β = 1e-14 gave D = 0.522 for 0.414.
        if (RateZeroIsOptimal(p, distortion, beta))
        {
            return ZeroSlope(p, distortion) with { Beta = beta, Products = $"host (rate 0 is optimal at β = {beta:G4}: no iteration)" };
        }

        var qh = Enumerable.Repeat(1.0 / nh, nh).ToArray();

        // e^(-β (d - min d)) does not change between iterations: taken once. The row's smallest
        // distortion is taken out (its factor cancels in the normalisation), so that a row's
        // largest entry is 1: e^(-β d) itself underflowed to 0 in whole rows once β·d passed ~745
        // (Hamming + 1 at β = 800), and 0/0 made the rate and distortion 0.
        var exponentials = new double[nx, nh];
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
                exponentials[i, j] = Math.Exp(-beta * (distortion[i, j] - least));
            }
        });

        // One pass over A = e^(-β(d - shift)) an iteration: with t = q(x̂)·A(x, x̂) and Z(x) = Σ t, the
        // next q(x̂) is q(x̂)·Σ_x p(x)·A(x, x̂)/Z(x), the distortion Σ_x p(x)·Σ t·d/Z(x), and the rate
        // needs no log per entry: with c = t/Z and Σ_x p(x)c(x̂|x) = q'(x̂),
        // Σ p c ln(c/q') = -D(q' || q) - β(D - Σ p·shift) - Σ p ln Z.
        // A row whose Z underflows is taken in log space after the pass (on the host, in row order),
        // and adds its p(x)·c straight into q' (direct).
        var skipped = p.Select(v => v == 0).ToArray();
        using var pass = passes(exponentials, distortion, skipped);
        var c = new double[nh];
        var direct = new double[nh];
        var rowDistortion = new double[nx];
        var logZ = new double[nx];
        var logSpace = new bool[nx];
        var t = new double[nh];
        double shiftMean = 0;
        for (int i = 0; i < nx; i++)
        {
            shiftMean += p[i] * shift[i];
        }

        double rate = 0, dist = 0, gap = double.PositiveInfinity;
        int it = 0;
        bool converged = false;
        for (; it < maxIterations; it++)
        {
            check?.Invoke();
            pass.Pass(qh, (i, z, weightedZ) =>
            {
                logSpace[i] = false;
                if (p[i] == 0)
                {
                    (rowDistortion[i], logZ[i]) = (0, 0);
                    return 0;
                }

                if (z >= MinNormaliser)
                {
                    rowDistortion[i] = weightedZ / z;
                    logZ[i] = Math.Log(z);
                    return p[i] / z;
                }

                logSpace[i] = true;
                return 0;
            }, c);
            Array.Clear(direct);
            for (int i = 0; i < nx; i++)
            {
                if (logSpace[i])
                {
                    (double z, double most) = LogSpaceRow(qh, distortion, i, shift[i], beta, t);
                    TensorPrimitives.Divide(t, z, t);
                    rowDistortion[i] = TensorPrimitives.Dot(t, Row(distortion, i));
                    logZ[i] = most + Math.Log(z);
                    TensorPrimitives.MultiplyAdd(t, p[i], direct, direct);
                }
            }

            // c(x̂) = Σ_x p(x)·A(x, x̂)/Z(x), so that q'(x̂) = q(x̂)·c(x̂) (plus the log-space rows' share,
            // which counts in c as direct/q). Blahut's lower bound on R at this distortion is the rate
            // less ln max c - D(q' || q) (Σ q' ln c is D(q' || q)).
            var next = new double[nh];
            double divergence = 0, mostC = 0;
            for (int j = 0; j < nh; j++)
            {
                next[j] = (qh[j] * c[j]) + direct[j];
                mostC = Math.Max(mostC, c[j] + (direct[j] > 0 ? direct[j] / qh[j] : 0));
                divergence += next[j] > 0 ? next[j] * Math.Log(next[j] / qh[j]) : 0;
            }

            double meanLogZ = 0;
            dist = 0;
            for (int i = 0; i < nx; i++)
            {
                dist += p[i] * rowDistortion[i];
                meanLogZ += p[i] * logZ[i];
            }

            rate = -divergence - (beta * (dist - shiftMean)) - meanLogZ;
            gap = Math.Log(mostC) - divergence;
            qh = next;
            if (gap < tolerance)
            {
                converged = true;
                break;
            }
        }

        double ln2 = Math.Log(2);
        return new RateDistortionResult(beta, Math.Max(0, rate) / ln2, dist, qh, Math.Max(0, rate - gap) / ln2, it, converged, pass.Name);
    }

    /// <summary>
    /// β = 0: every test channel with rate 0 minimises R + 0·D, and the iteration would keep its
    /// uniform start (D = the uniform reproduction's average distortion). The point reported is the
    /// limit as β → 0+: rate 0 at D_max = min_x̂ Σ_x p(x)d(x, x̂), the whole mass on that x̂.
    /// </summary>
    private static RateDistortionResult ZeroSlope(double[] p, double[,] distortion)
    {
        int nx = p.Length, nh = distortion.GetLength(1);
        var average = new double[nh];
        for (int i = 0; i < nx; i++)
        {
            for (int j = 0; j < nh; j++)
            {
                average[j] += p[i] * distortion[i, j];
            }
        }

        int best = 0;
        for (int j = 1; j < nh; j++)
        {
            best = average[j] < average[best] ? j : best;
        }

        var reproduction = new double[nh];
        reproduction[best] = 1;
        return new RateDistortionResult(0, 0, average[best], reproduction, 0, 0, true, "host (β = 0: no iteration)");
    }

    /// <summary>
    /// Whether the whole mass on the x̂* of least average distortion is optimal at slope -β: the
    /// optimality condition of a reproduction q (Berger 1971, Theorem 2.5.2), Σ_x p(x)A(x, x̂)/Σ_x̂' q(x̂')A(x, x̂') ≤ 1
    /// for every x̂ with A = e^(-β d), at q = δ(x̂*): Σ_x p(x)e^(-β(d(x, x̂) - d(x, x̂*))) ≤ 1.
    /// </summary>
    private static bool RateZeroIsOptimal(double[] p, double[,] distortion, double beta)
    {
        int nx = p.Length, nh = distortion.GetLength(1);
        var best = ZeroSlope(p, distortion).Reproduction.AsSpan().IndexOf(1.0);
        for (int j = 0; j < nh; j++)
        {
            double c = 0;
            for (int i = 0; i < nx; i++)
            {
                c += p[i] * Math.Exp(-beta * (distortion[i, j] - distortion[i, best]));
            }

            if (c > 1 + 1e-12)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>A tolerance that is negative or NaN never stopped, +∞ stopped at once, and no iterations gave the start as a result; 0 runs every iteration (a fixed count).</summary>
    private static void CheckStopping(double tolerance, int maxIterations)
    {
        if (!(tolerance >= 0) || double.IsInfinity(tolerance))
        {
            Guard.Throw(nameof(tolerance), $"tolerance must be finite and >= 0 (0 runs every iteration), got {tolerance}.");
        }

        if (maxIterations < 1)
        {
            Guard.Throw(nameof(maxIterations), $"maxIterations must be at least 1, got {maxIterations}.");
        }
    }

    /// <summary>Below this a row's normaliser Z is taken in log space (p(x)/Z would overflow).</summary>
    private const double MinNormaliser = 1e-290;

    /// <summary>
    /// row[j] = q(x̂_j)·e^(-β(d - shift) - most), where most is the largest exponent, so that the
    /// largest entry is 1; returns the row's sum and most.
    /// </summary>
    private static (double Sum, double Most) LogSpaceRow(double[] qh, double[,] distortion, int i, double shift, double beta, Span<double> row)
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

        return (z, most);
    }
}
