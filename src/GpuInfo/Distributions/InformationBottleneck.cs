namespace GpuInfo;

/// <summary>
/// The Information Bottleneck family in log space: q(t|x) ∝ exp((log q(t) - β·KL[p(y|x)||q(y|t)])/α),
/// q(t) = Σ_x p(x)q(t|x), q(y|t) = Σ_x p(x,y)q(t|x)/q(t). α = 1 is the iterative IB, α = 0 the
/// deterministic IB (argmax), in between the generalized IB. Iterates until the objective
/// L = H(T) - α·H(T|X) - β·I(T;Y) stops changing and the encoder stops moving (near a phase
/// transition the objective flattens long before the encoder settles); clusters that lose all mass
/// are dropped; the best of several restarts wins. Restart 0 starts from the β → ∞ solution (each x
/// its own cluster) when |T| ≥ |X|, the others from random encoders. The two matrix products per
/// iteration run on <see cref="IIbProducts"/>.
/// </summary>
internal static class InformationBottleneck
{
    /// <summary>Below this a cluster's mass counts as empty.</summary>
    private const double EmptyCluster = 1e-12;

    /// <summary>log 0 as a finite number, so that 0·log 0 stays 0 inside a matrix product.</summary>
    private const double LogZero = -1e300;

    /// <summary>Converged also requires no encoder entry to move by more than this in an iteration.</summary>
    private const double EncoderTolerance = 1e-10;

    public static IbResult Solve(JointDistribution joint, IbOptions o, IIbProducts products, double[]? warmEncoder = null, int warmClusters = 0)
    {
        int clusters = Math.Min(o.Clusters ?? joint.X, Math.Max(1, o.Clusters ?? joint.X));
        IbResult? best = null;
        for (int r = 0; r < o.Restarts; r++)
        {
            var (encoder, t) = warmEncoder is not null && r == 0
                ? ((double[])warmEncoder.Clone(), warmClusters)
                : r == 0 && clusters >= joint.X
                    ? (IdentityEncoder(joint.X, clusters), clusters)
                    : (RandomEncoder(joint.X, clusters, o.Seed, r), clusters);
            var result = Iterate(joint, o, products, encoder, t);
            if (best is null || result.Objective < best.Objective - 1e-12 * Math.Max(1, Math.Abs(best.Objective)))
            {
                best = result;
            }
        }

        return best!;
    }

    private static IbResult Iterate(JointDistribution joint, IbOptions o, IIbProducts products, double[] encoder, int t)
    {
        int x = joint.X, y = joint.Y;
        var negHyx = NegativeConditionalEntropies(joint);
        double previous = double.NaN;
        double moved = double.PositiveInfinity;
        bool converged = false;
        int iteration = 0;
        var state = new State(joint, products);
        for (; iteration < o.MaxIterations; iteration++)
        {
            (encoder, t) = state.Prepare(encoder, t);
            double objective = state.Objective(encoder, t, o);
            if (Math.Abs(objective - previous) <= o.Tolerance * Math.Max(1, Math.Abs(objective)) && moved <= EncoderTolerance)
            {
                converged = true;
                break;
            }

            previous = objective;
            var before = (double[])encoder.Clone();
            var cross = new double[x * t];
            products.CrossTerms(state.LogDecoder, t, cross);
            var s = new double[t];
            for (int i = 0; i < x; i++)
            {
                for (int k = 0; k < t; k++)
                {
                    double kl = negHyx[i] - cross[i * t + k];
                    s[k] = Math.Log(state.Qt[k]) - o.Beta * kl;
                }

                Encode(s, o.Alpha, encoder.AsSpan(i * t, t));
            }

            moved = 0;
            for (int e = 0; e < encoder.Length; e++)
            {
                moved = Math.Max(moved, Math.Abs(encoder[e] - before[e]));
            }
        }

        (encoder, t) = state.Prepare(encoder, t);
        double final = state.Objective(encoder, t, o);
        return state.Result(encoder, t, o, final, iteration, converged);
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

        double m = double.NegativeInfinity;
        foreach (double v in s)
        {
            m = Math.Max(m, v / alpha);
        }

        double sum = 0;
        for (int k = 0; k < s.Length; k++)
        {
            row[k] = Math.Exp(s[k] / alpha - m);
            sum += row[k];
        }

        for (int k = 0; k < s.Length; k++)
        {
            row[k] /= sum;
        }
    }

    private static double[] NegativeConditionalEntropies(JointDistribution joint)
    {
        var result = new double[joint.X];
        for (int i = 0; i < joint.X; i++)
        {
            double acc = 0;
            for (int j = 0; j < joint.Y; j++)
            {
                double p = joint.Px[i] > 0 ? joint.P[i * joint.Y + j] / joint.Px[i] : 0;
                acc += p > 0 ? p * Math.Log(p) : 0;
            }

            result[i] = acc;
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
        var rng = new Random(HashCode.Combine(seed, restart, 0x1B));
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
    private sealed class State(JointDistribution joint, IIbProducts products)
    {
        public double[] Qt { get; private set; } = [];

        public double[] Numerator { get; private set; } = [];

        public double[] LogDecoder { get; private set; } = [];

        /// <summary>Drops empty clusters, then computes q(t), q(y|t) and log q(y|t).</summary>
        public (double[] Encoder, int Clusters) Prepare(double[] encoder, int t)
        {
            int x = joint.X, y = joint.Y;
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

            var encoderT = new double[t * x];
            for (int i = 0; i < x; i++)
            {
                for (int k = 0; k < t; k++)
                {
                    encoderT[k * x + i] = encoder[i * t + k];
                }
            }

            var numerator = new double[t * y];
            products.DecoderNumerator(encoderT, t, numerator);
            var logDecoder = new double[t * y];
            for (int k = 0; k < t; k++)
            {
                for (int j = 0; j < y; j++)
                {
                    double q = numerator[k * y + j] / qt[k];
                    logDecoder[k * y + j] = q > 0 ? Math.Log(q) : LogZero;
                }
            }

            Qt = qt;
            Numerator = numerator;
            LogDecoder = logDecoder;
            return (encoder, t);
        }

        public double Objective(double[] encoder, int t, IbOptions o) =>
            Entropy(Qt) - o.Alpha * ConditionalEntropy(encoder, t) - o.Beta * Ity(t);

        public IbResult Result(double[] encoder, int t, IbOptions o, double objective, int iterations, bool converged)
        {
            double ln2 = Math.Log(2);
            double ht = Entropy(Qt), htx = ConditionalEntropy(encoder, t);
            var decoder = new double[t * joint.Y];
            for (int k = 0; k < t; k++)
            {
                for (int j = 0; j < joint.Y; j++)
                {
                    decoder[k * joint.Y + j] = Numerator[k * joint.Y + j] / Qt[k];
                }
            }

            return new IbResult
            {
                Beta = o.Beta,
                Alpha = o.Alpha,
                Clusters = DistinctClusters(decoder, t, joint.Y),
                Encoder = encoder,
                ClusterMarginal = Qt,
                Decoder = decoder,
                IxtBits = Math.Max(0, ht - htx) / ln2,
                ItyBits = Math.Max(0, Ity(t)) / ln2,
                HtBits = ht / ln2,
                IxyBits = joint.MutualInformation(),
                Objective = objective,
                Iterations = iterations,
                Converged = converged,
            };
        }

        private double[] Marginal(double[] encoder, int t)
        {
            var qt = new double[t];
            for (int i = 0; i < joint.X; i++)
            {
                for (int k = 0; k < t; k++)
                {
                    qt[k] += joint.Px[i] * encoder[i * t + k];
                }
            }

            return qt;
        }

        private double ConditionalEntropy(double[] encoder, int t)
        {
            double h = 0;
            for (int i = 0; i < joint.X; i++)
            {
                h += joint.Px[i] * JointDistribution.Entropy(encoder.AsSpan(i * t, t));
            }

            return h;
        }

        /// <summary>I(T;Y) = Σ_t Σ_y q(t,y) log(q(t,y) / (q(t)p(y))), with q(t,y) the decoder numerator.</summary>
        private double Ity(int t)
        {
            double mi = 0;
            for (int k = 0; k < t; k++)
            {
                for (int j = 0; j < joint.Y; j++)
                {
                    double qty = Numerator[k * joint.Y + j];
                    if (qty > 0)
                    {
                        mi += qty * Math.Log(qty / (Qt[k] * joint.Py[j]));
                    }
                }
            }

            return mi;
        }

        private static double Entropy(double[] p) => JointDistribution.Entropy(p);

        /// <summary>Clusters whose decoders differ (L1 &gt; 1e-6): merged copies of one cluster count once.</summary>
        private static int DistinctClusters(double[] decoder, int t, int y)
        {
            var representatives = new List<int>();
            for (int k = 0; k < t; k++)
            {
                bool same = representatives.Any(r =>
                {
                    double d = 0;
                    for (int j = 0; j < y; j++)
                    {
                        d += Math.Abs(decoder[k * y + j] - decoder[r * y + j]);
                    }

                    return d < 1e-6;
                });
                if (!same)
                {
                    representatives.Add(k);
                }
            }

            return representatives.Count;
        }
    }
}
