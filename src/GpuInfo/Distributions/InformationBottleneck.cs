using System.Diagnostics;
using System.Numerics.Tensors;

namespace GpuInfo;

/// <summary>
/// The Information Bottleneck family in log space: q(t|x) ∝ exp((log q(t) - β·KL[p(y|x)||q(y|t)])/α),
/// q(t) = Σ_x p(x)q(t|x), q(y|t) = Σ_x p(x,y)q(t|x)/q(t). α = 1 is the iterative IB, α = 0 the
/// deterministic IB (argmax), in between the generalized IB. Iterates until the objective
/// L = H(T) - α·H(T|X) - β·I(T;Y) stops changing and the encoder stops moving (near a phase
/// transition the objective flattens long before the encoder settles); clusters that lose all mass
/// are dropped; the best of several restarts wins. Restart 0 starts from the β → ∞ solution (each x
/// its own cluster) when |T| ≥ |X| and α > 0, the others from random encoders. The deterministic IB
/// never leaves that start (each x's own cluster keeps the best score: KL 0 and, with p(x) uniform,
/// the same q(t) as any other), so its restarts all start from random encoders; but since those can
/// only lose clusters, when |T| ≥ |X| (and no warm start is given) the identity is tried after them
/// too, and wins only with a lower objective. The two matrix products per iteration run on
/// <see cref="IIbProducts"/>.
/// </summary>
internal static class InformationBottleneck
{
    /// <summary>Below this a cluster's mass counts as empty.</summary>
    private const double EmptyCluster = 1e-12;

    public static IbResult Solve(IbProblem problem, IbOptions o, double[]? warmEncoder = null, int warmClusters = 0, IProgress<IbIteration>? progress = null)
    {
        int clusters = Math.Min(o.Clusters ?? problem.X, Math.Max(1, o.Clusters ?? problem.X));
        IbResult? best = null;
        for (int r = 0; r < o.Restarts; r++)
        {
            var (encoder, t) = warmEncoder is not null && r == 0
                ? ((double[])warmEncoder.Clone(), warmClusters)
                : r == 0 && clusters >= problem.X && o.Alpha > 0
                    ? (IdentityEncoder(problem.X, clusters), clusters)
                    : (RandomEncoder(problem.X, clusters, o.Seed, r), clusters);
            var result = Iterate(problem, o, encoder, t, r, progress);
            if (best is null || result.Objective < best.Objective - 1e-12 * Math.Max(1, Math.Abs(best.Objective)))
            {
                best = result;
            }
        }

        // The deterministic IB's random starts lose clusters in their first argmax and can never get
        // them back, so at large β they ended above the objective of each x in its own cluster (14 of
        // 40 random 2-6 x 2-7 joints at β 5 to 200, |T| = |X|). That start is tried as well, after
        // them, and kept only where its objective is lower.
        if (o.Alpha == 0 && warmEncoder is null && clusters >= problem.X)
        {
            var result = Iterate(problem, o, IdentityEncoder(problem.X, clusters), clusters, o.Restarts, progress);
            if (result.Objective < best!.Objective - 1e-12 * Math.Max(1, Math.Abs(best.Objective)))
            {
                best = result;
            }
        }

        return best!;
    }

    private static IbResult Iterate(IbProblem problem, IbOptions o, double[] encoder, int t, int restart, IProgress<IbIteration>? progress)
    {
        var negHyx = problem.NegativeConditionalEntropies;
        double previous = double.NaN;
        double moved = double.PositiveInfinity;
        bool converged = false;
        int iteration = 0;
        using var state = new State(problem);
        double tolerance = Math.Max(o.Tolerance, problem.Products.ObjectiveTolerance);
        double[]? spareEncoder = null;
        (encoder, t) = state.Prepare(encoder, t);
        double objective = state.Objective(encoder, t, o);
        for (; iteration < o.MaxIterations; iteration++)
        {
            if (Math.Abs(objective - previous) <= tolerance * Math.Max(1, Math.Abs(objective)) && moved <= problem.Products.EncoderTolerance)
            {
                converged = true;
                break;
            }

            previous = objective;
            var logQt = state.Qt.Select(q => Math.Log(q)).ToArray();
            int clusters = t;

            // The last iteration's encoder is free once the state holds the new one: reused, an
            // iteration touches no fresh pages (each new array was a page fault a 4 KiB). The first
            // encoder is the caller's: never reused. The step writes the new numerator over the
            // decoder's own ([clusters, Y], host or device: the largest array; nothing reads it until Accept).
            var next = spareEncoder?.Length == encoder.Length ? spareEncoder : new double[encoder.Length];
            spareEncoder = iteration > 0 ? encoder : null;
            // Each row's largest move and entropy are taken while the update has it in cache: two
            // passes over the [X, clusters] encoders less an iteration.
            var current = encoder;
            var (rowMoved, rowEntropy) = state.RowScratch();
            long stepStart = Stopwatch.GetTimestamp(), updateTicks = 0;
            state.Decoder.Step(next, t, (first, rows, cross, rowsOut) => Timed(ref updateTicks, () => RowBlocks.For(rows, (start, count) =>
            {
                var s = new double[clusters];
                for (int i = start; i < start + count; i++)
                {
                    for (int k = 0; k < clusters; k++)
                    {
                        double kl = negHyx[first + i] - cross[i * clusters + k];
                        s[k] = logQt[k] - o.Beta * kl;
                    }

                    var row = rowsOut.AsSpan((first + i) * clusters, clusters);
                    Encode(s, o.Alpha, row);
                    var old = current.AsSpan((first + i) * clusters, clusters);
                    double most = 0;
                    for (int k = 0; k < clusters; k++)
                    {
                        most = Math.Max(most, Math.Abs(old[k] - row[k]));
                    }

                    rowMoved[first + i] = most;
                    rowEntropy[first + i] = JointDistribution.Entropy(row);
                }
            })));
            long productTicks = Stopwatch.GetTimestamp() - stepStart - updateTicks;
            moved = TensorPrimitives.Max<double>(rowMoved);

            int before = t;
            (encoder, t) = state.Accept(next, t);
            productTicks += state.DecoderTicks;

            // A cluster that emptied was dropped and the rows renormalised: their entropies are recomputed.
            objective = state.Objective(encoder, t, o, t == before ? rowEntropy : null);
            progress?.Report(new IbIteration(o.Beta, restart, iteration + 1, objective, t, moved, Stopwatch.GetElapsedTime(0, productTicks).TotalSeconds));
        }

        return state.Result(encoder, t, o, objective, iteration, converged);
    }

    /// <summary>Runs <paramref name="action"/>, adding its duration to <paramref name="ticks"/> (Stopwatch ticks).</summary>
    private static void Timed(ref long ticks, Action action)
    {
        long start = Stopwatch.GetTimestamp();
        action();
        ticks += Stopwatch.GetTimestamp() - start;
    }

    /// <summary>q(·|x) from the scores s_t = log q(t) - β·KL: a softmax of s/α, or the argmax when α = 0.</summary>
    private static void Encode(double[] s, double alpha, Span<double> row)
    {
        if (alpha == 0)
        {
            int best = 0;
            for (int k = 1; k < s.Length; k++)
            {
                best = s[k] > s[best] ? k : best;
            }

            row.Clear();
            row[best] = 1;
            return;
        }

        // Vectorised: rows of clusters' scores, one per context, are an IB iteration's many exps.
        TensorPrimitives.Divide(s, alpha, row);
        TensorPrimitives.Subtract(row, TensorPrimitives.Max(row), row);
        TensorPrimitives.Exp(row, row);
        TensorPrimitives.Divide(row, TensorPrimitives.Sum(row), row);
    }

    /// <summary>argmax_t q(t|x) per x (the lowest t on ties).</summary>
    private static int[] Assignments(double[] encoder, int t)
    {
        var result = new int[encoder.Length / t];
        for (int i = 0; i < result.Length; i++)
        {
            var row = encoder.AsSpan(i * t, t);
            int best = 0;
            for (int k = 1; k < t; k++)
            {
                best = row[k] > row[best] ? k : best;
            }

            result[i] = best;
        }

        return result;
    }

    /// <summary>Each x in its own cluster (the β → ∞ solution), with the spare clusters empty.</summary>
    private static double[] IdentityEncoder(int x, int t)
    {
        var e = new double[x * t];
        for (int i = 0; i < x; i++)
        {
            e[i * t + i] = 1;
        }

        return e;
    }

    private static double[] RandomEncoder(int x, int t, int seed, int restart)
    {
        // Not HashCode.Combine: its seed changes with every process, and a seed must give the same encoders in any run.
        var rng = new Random(unchecked((seed * 1_000_003) + (restart * 7919) + 0x1B));
        var e = new double[x * t];
        for (int i = 0; i < x; i++)
        {
            double sum = 0;
            for (int k = 0; k < t; k++)
            {
                e[i * t + k] = Math.Exp(2 * rng.NextDouble());
                sum += e[i * t + k];
            }

            for (int k = 0; k < t; k++)
            {
                e[i * t + k] /= sum;
            }
        }

        return e;
    }

    /// <summary>The marginals and decoder of the current encoder, and the quantities reported from them.</summary>
    private sealed class State(IbProblem problem) : IDisposable
    {
        private double _ity;
        private double[]? _rowMoved;
        private double[]? _rowEntropy;

        public double[] Qt { get; private set; } = [];

        /// <summary>The numerator and log q(y|t), where the products keep them.</summary>
        public IbDecoder Decoder { get; } = problem.Products.CreateDecoder(problem.Py);

        /// <summary>Stopwatch ticks the decoder's products took in the last <see cref="Prepare"/> or <see cref="Accept"/>.</summary>
        public long DecoderTicks { get; private set; }

        /// <summary>Drops empty clusters, then computes q(t), the decoder numerator (a product) and log q(y|t).</summary>
        public (double[] Encoder, int Clusters) Prepare(double[] encoder, int t)
        {
            (encoder, t) = DropEmpty(encoder, t);
            var transposed = IIbProducts.Transpose(encoder, problem.X, t);
            long start = Stopwatch.GetTimestamp();
            Decoder.Recompute(transposed, t);
            _ity = Decoder.Update(Qt);
            DecoderTicks = Stopwatch.GetTimestamp() - start;
            return (encoder, t);
        }

        /// <summary>Takes an iteration's encoder, whose numerator its step computed; recomputes the numerator only when a cluster emptied.</summary>
        public (double[] Encoder, int Clusters) Accept(double[] encoder, int t)
        {
            var qt = Marginal(encoder, t);
            if (qt.Any(q => !(q > EmptyCluster)))
            {
                return Prepare(encoder, t);
            }

            Qt = qt;
            long start = Stopwatch.GetTimestamp();
            _ity = Decoder.Update(qt);
            DecoderTicks = Stopwatch.GetTimestamp() - start;
            return (encoder, t);
        }

        public void Dispose() => Decoder.Dispose();

        private (double[] Encoder, int Clusters) DropEmpty(double[] encoder, int t)
        {
            int x = problem.X;
            var qt = Marginal(encoder, t);
            var keep = Enumerable.Range(0, t).Where(k => qt[k] > EmptyCluster).ToArray();
            if (keep.Length < t)
            {
                var compact = new double[x * keep.Length];
                for (int i = 0; i < x; i++)
                {
                    double sum = 0;
                    for (int k = 0; k < keep.Length; k++)
                    {
                        compact[i * keep.Length + k] = encoder[i * t + keep[k]];
                        sum += compact[i * keep.Length + k];
                    }

                    for (int k = 0; k < keep.Length; k++)
                    {
                        compact[i * keep.Length + k] = sum > 0 ? compact[i * keep.Length + k] / sum : 1.0 / keep.Length;
                    }
                }

                (encoder, t) = (compact, keep.Length);
                qt = Marginal(encoder, t);
            }

            Qt = qt;
            return (encoder, t);
        }

        /// <summary>L; with <paramref name="rowEntropies"/> (H(q(·|x)) of each row of this encoder), H(T|X) from them instead of the rows.</summary>
        public double Objective(double[] encoder, int t, IbOptions o, double[]? rowEntropies = null) =>
            Entropy(Qt) - o.Alpha * (rowEntropies is null ? ConditionalEntropy(encoder, t) : ConditionalEntropy(rowEntropies)) - o.Beta * _ity;

        /// <summary>Per-row arrays an iteration fills (each row's largest move, its entropy), kept across iterations.</summary>
        public (double[] Moved, double[] Entropy) RowScratch()
        {
            _rowMoved ??= new double[problem.X];
            _rowEntropy ??= new double[problem.X];
            return (_rowMoved, _rowEntropy);
        }

        /// <summary>
        /// The result, with clusters whose decoders are the same (within the products' tolerance)
        /// merged into one: at a fixed point such copies split every context in a fixed ratio, so
        /// merging keeps I(X;T) and I(T;Y) and takes the split's entropy out of H(T) (9 contexts in 3
        /// groups from the identity start reported H(T) = log 9 with 3 clusters used, and `ib` listed
        /// 9 clusters, 6 of them empty copies).
        /// </summary>
        public IbResult Result(double[] encoder, int t, IbOptions o, double objective, int iterations, bool converged)
        {
            double ln2 = Math.Log(2);
            var numerator = Decoder.Numerator();
            var qt = Qt;
            double ity = _ity;
            var decoder = Conditional(numerator, qt, problem.Y);
            var owner = Owners(decoder, t, problem.Y, problem.Products.DecoderTolerance);
            int merged = owner.Length == 0 ? 0 : owner.Max() + 1;
            if (merged < t)
            {
                (encoder, qt, numerator) = (MergeColumns(encoder, problem.X, t, owner, merged), new double[merged], MergeRows(numerator, problem.Y, owner, merged));
                for (int k = 0; k < t; k++)
                {
                    qt[owner[k]] += Qt[k];
                }

                t = merged;
                ity = MutualInformation(numerator, qt, problem.Py);
                objective = Entropy(qt) - (o.Alpha * ConditionalEntropy(encoder, t)) - (o.Beta * ity);
                decoder = Conditional(numerator, qt, problem.Y);
            }

            double ht = Entropy(qt), htx = ConditionalEntropy(encoder, t);

            return new IbResult
            {
                Beta = o.Beta,
                Alpha = o.Alpha,
                Clusters = t,
                Encoder = encoder,
                Assignments = Assignments(encoder, t),
                ClusterMarginal = qt,
                Decoder = decoder,
                IxtBits = Math.Max(0, ht - htx) / ln2,
                ItyBits = Math.Max(0, ity) / ln2,
                HtBits = ht / ln2,
                IxyBits = problem.IxyBits,
                Objective = objective,
                Iterations = iterations,
                Products = problem.Products.Name,
                Converged = converged,
            };
        }

        /// <summary>q(y|t) = q(t, y)/q(t), [clusters, Y].</summary>
        private static double[] Conditional(double[] numerator, double[] qt, int y)
        {
            var decoder = new double[qt.Length * y];
            for (int k = 0; k < qt.Length; k++)
            {
                TensorPrimitives.Divide(numerator.AsSpan(k * y, y), qt[k], decoder.AsSpan(k * y, y));
            }

            return decoder;
        }

        private static double[] MergeColumns(double[] encoder, int x, int t, int[] owner, int merged)
        {
            var result = new double[x * merged];
            for (int i = 0; i < x; i++)
            {
                for (int k = 0; k < t; k++)
                {
                    result[i * merged + owner[k]] += encoder[i * t + k];
                }
            }

            return result;
        }

        private static double[] MergeRows(double[] rows, int width, int[] owner, int merged)
        {
            var result = new double[merged * width];
            for (int k = 0; k < owner.Length; k++)
            {
                TensorPrimitives.Add(result.AsSpan(owner[k] * width, width), rows.AsSpan(k * width, width), result.AsSpan(owner[k] * width, width));
            }

            return result;
        }

        /// <summary>I(T;Y) = Σ_t Σ_y q(t, y)·(log q(y|t) − log p(y)) in nats, on the host, as <see cref="IbDecoder.Update"/> takes it.</summary>
        private static double MutualInformation(double[] numerator, double[] qt, double[] py)
        {
            int y = py.Length;
            double total = 0;
            for (int k = 0; k < qt.Length; k++)
            {
                for (int j = 0; j < y; j++)
                {
                    double n = numerator[k * y + j];
                    total += n > 0 ? n * JointDistribution.LogRatio(n, qt[k], py[j]) : 0;
                }
            }

            return total;
        }

        private double[] Marginal(double[] encoder, int t) => RowBlocks.Sum(problem.X, (start, count) =>
        {
            var qt = new double[t];
            for (int i = start; i < start + count; i++)
            {
                for (int k = 0; k < t; k++)
                {
                    qt[k] += problem.Px[i] * encoder[i * t + k];
                }
            }

            return qt;
        }, t);

        private double ConditionalEntropy(double[] encoder, int t) => RowBlocks.Sum(problem.X, (start, count) =>
        {
            double h = 0;
            for (int i = start; i < start + count; i++)
            {
                h += problem.Px[i] * JointDistribution.Entropy(encoder.AsSpan(i * t, t));
            }

            return [h];
        }, 1)[0];

        /// <summary>As above from each row's entropy, summed in the same blocks and order: the same bits.</summary>
        private double ConditionalEntropy(double[] rowEntropies) => RowBlocks.Sum(problem.X, (start, count) =>
        {
            double h = 0;
            for (int i = start; i < start + count; i++)
            {
                h += problem.Px[i] * rowEntropies[i];
            }

            return [h];
        }, 1)[0];

        private static double Entropy(double[] p) => JointDistribution.Entropy(p);

        /// <summary>
        /// For each cluster, the index of the first cluster whose decoder q(y|t) is within L1
        /// <paramref name="tolerance"/> of its own (clusters numbered in order of first appearance):
        /// copies of one cluster share an owner.
        /// </summary>
        private static int[] Owners(double[] decoder, int t, int y, double tolerance)
        {
            var owner = new int[t];
            var representatives = new List<int>();
            var difference = new double[Math.Min(y, 1024)];
            for (int k = 0; k < t; k++)
            {
                // The L1 distance only grows along y, so a pair is told apart as soon as it passes the
                // tolerance: all-distinct decoders at 256 x 50257 took over a second compared whole.
                int same = representatives.FindIndex(r =>
                {
                    double d = 0;
                    for (int j = 0; j < y && d < tolerance; j += difference.Length)
                    {
                        int n = Math.Min(difference.Length, y - j);
                        TensorPrimitives.Subtract(decoder.AsSpan(k * y + j, n), decoder.AsSpan(r * y + j, n), difference.AsSpan(0, n));
                        d += TensorPrimitives.SumOfMagnitudes<double>(difference.AsSpan(0, n));
                    }

                    return d < tolerance;
                });
                if (same < 0)
                {
                    owner[k] = representatives.Count;
                    representatives.Add(k);
                }
                else
                {
                    owner[k] = same;
                }
            }

            return owner;
        }
    }
}
