namespace GpuInfo.Tests.Distributions;

public sealed class InformationBottleneckTests : IDisposable
{
    private readonly InfoEngine _engine = new(new InfoEngineOptions { Device = "cpu" });

    public void Dispose() => _engine.Dispose();

    [Theory]
    [InlineData(0.1, 2.0)]
    [InlineData(0.1, 3.0)]
    [InlineData(0.1, 6.0)]
    [InlineData(0.2, 4.0)]
    public void Doubly_symmetric_binary_source_lies_on_the_Mrs_Gerber_curve(double p, double beta)
    {
        // Above beta_c = 1/(1-2p)^2 the optimal T is X through a BSC(a): I(X;T) = 1 - h(a), I(T;Y) = 1 - h(a*p).
        var r = _engine.InformationBottleneck(ClosedForms.Dsbs(p), new IbOptions { Beta = beta, Clusters = 2, MaxIterations = 200_000, Tolerance = 1e-15 });
        Assert.True(r.Converged, $"not converged after {r.Iterations} iterations");
        double a = ClosedForms.H2Inverse(1 - r.IxtBits);
        Assert.True(r.IxtBits > 1e-3, $"expected a non-trivial solution above the critical beta, got I(X;T) = {r.IxtBits}");
        Assert.Equal(1 - ClosedForms.H2(ClosedForms.Star(a, p)), r.ItyBits, 1e-4);
    }

    [Fact]
    public void Beta_zero_compresses_everything_away()
    {
        var joint = RandomJoint(8, 12, 3);
        var r = _engine.InformationBottleneck(joint, new IbOptions { Beta = 0, Seed = 5 });
        Assert.True(r.IxtBits < 1e-6, $"I(X;T) = {r.IxtBits}");
        Assert.True(r.ItyBits < 1e-6, $"I(T;Y) = {r.ItyBits}");
        Assert.Equal(1, r.Clusters);
    }

    [Fact]
    public void Large_beta_recovers_all_the_relevant_information()
    {
        var joint = RandomJoint(6, 10, 4);
        var r = _engine.InformationBottleneck(joint, new IbOptions { Beta = 1e4, Seed = 2 });
        Assert.Equal(joint.MutualInformation(), r.ItyBits, 1e-4);
        Assert.Equal(joint.MutualInformation(), r.IxyBits, 12);
    }

    [Fact]
    public void Solutions_are_reproducible_for_a_seed()
    {
        var joint = RandomJoint(10, 7, 9);
        foreach (double alpha in new[] { 1.0, 0.5, 0.0 })
        {
            var options = new IbOptions { Beta = 5, Alpha = alpha, Clusters = 4, Seed = 42 };
            var a = _engine.InformationBottleneck(joint, options);
            var b = _engine.InformationBottleneck(joint, options);
            Assert.Equal(a.Encoder, b.Encoder);
            Assert.Equal(a.IxtBits, b.IxtBits);
            Assert.Equal(a.ItyBits, b.ItyBits);
        }
    }

    [Fact]
    public void Deterministic_ib_assigns_each_x_to_one_cluster_and_generalized_ib_lies_between()
    {
        var joint = RandomJoint(12, 8, 11);
        var dib = _engine.InformationBottleneck(joint, new IbOptions { Beta = 8, Alpha = 0, Clusters = 5, Seed = 1 });
        int t = dib.ClusterMarginal.Length;
        for (int x = 0; x < joint.X; x++)
        {
            var row = dib.Encoder.AsSpan(x * t, t).ToArray();
            Assert.Equal(1.0, row.Max());
            Assert.Equal(1.0, row.Sum(), 12);
        }

        Assert.Equal(dib.HtBits, dib.IxtBits, 9);
        var gib = _engine.InformationBottleneck(joint, new IbOptions { Beta = 8, Alpha = 0.5, Clusters = 5, Seed = 1 });
        Assert.True(gib.Converged);
        Assert.InRange(gib.ItyBits, 0, joint.MutualInformation() + 1e-9);
    }

    /// <summary>
    /// With as many clusters as contexts and one restart, the deterministic IB started from each
    /// context in its own cluster never moved (a fixed point of its argmax); it must find the planted
    /// groups, whose objective H(T) - β·I(T;Y) is far below that start's. One restart may stop at a
    /// local optimum of two groups (22 seeds in 10,000), still 0.46 bits or more below the start.
    /// </summary>
    [Fact]
    public void Deterministic_ib_with_one_restart_groups_contexts_alike()
    {
        int seed = Environment.TickCount;
        var rng = new Random(seed);
        int groups = 3, perGroup = 4, y = 6;
        var w = new double[groups * perGroup, y];
        for (int g = 0; g < groups; g++)
        {
            var shared = Enumerable.Range(0, y).Select(_ => Math.Pow(rng.NextDouble(), 3) + 1e-3).ToArray();
            for (int i = 0; i < perGroup; i++)
            {
                // A little noise: identical rows would merge as duplicates from any start.
                var row = shared.Select(v => v * (1 + (0.05 * rng.NextDouble()))).ToArray();
                for (int j = 0; j < y; j++)
                {
                    w[(g * perGroup) + i, j] = row[j] / row.Sum(); // rows of sum 1: p(x) uniform, where the start is a fixed point
                }
            }
        }

        var joint = JointDistribution.FromWeights(w);
        double beta = 5;
        var dib = _engine.InformationBottleneck(joint, new IbOptions { Beta = beta, Alpha = 0, Restarts = 1, Seed = rng.Next() });
        var px = Enumerable.Range(0, joint.X).Select(i => Enumerable.Range(0, y).Sum(j => w[i, j])).ToArray();
        double hx = -px.Sum(v => v / px.Sum() * Math.Log2(v / px.Sum()));
        double start = hx - (beta * joint.MutualInformation());
        double objective = dib.HtBits - (beta * dib.ItyBits);
        Assert.True(dib.Clusters < joint.X, $"{dib.Clusters} clusters, seed {seed}");
        Assert.True(objective < start - 0.25, $"objective {objective} bits, the identity's {start}, seed {seed}");
    }

    /// <summary>
    /// Six contexts with distinct p(y|x) (0.7 on the diagonal) and p(x) uniform: at β = 50 the
    /// deterministic IB's optimum keeps every context in its own cluster (objective ln 6 − β·I(X;Y)).
    /// Its random starts merged two contexts in their first argmax and could not split them again:
    /// for seeds 0, 2, 4 and 5 the solve ended with 5 clusters and an objective 5.05 nats above the identity's.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(5)]
    public void Deterministic_ib_at_large_beta_does_no_worse_than_each_context_in_its_own_cluster(int seed)
    {
        const int x = 6;
        const double beta = 50;
        var w = new double[x, x];
        for (int i = 0; i < x; i++)
        {
            for (int j = 0; j < x; j++)
            {
                w[i, j] = i == j ? 0.7 : 0.3 / (x - 1);
            }
        }

        var joint = JointDistribution.FromWeights(w);
        var dib = _engine.InformationBottleneck(joint, new IbOptions { Beta = beta, Alpha = 0, Clusters = x, Seed = seed });
        double identity = Math.Log(x) - (beta * joint.MutualInformation(InfoUnit.Nats));
        Assert.True(dib.Objective <= identity + 1e-9, $"objective {dib.Objective} nats, each context in its own cluster {identity}");
        Assert.Equal(x, dib.Clusters);
        Assert.Equal(x, dib.Assignments.Distinct().Count());
    }

    /// <summary>
    /// Nine contexts in three groups of identical p(y|x): from the identity start the iterative IB
    /// keeps nine clusters whose decoders are three copies each, and split each context evenly
    /// between its group's copies. The result merges copies: three clusters, H(T) = I(X;T) = log 3
    /// (it reported H(T) = log 9 and listed six empty copies), I(T;Y) = I(X;Y).
    /// </summary>
    [Theory]
    [InlineData(1.0)]
    [InlineData(0.5)]
    public void Clusters_with_the_same_decoder_are_reported_as_one(double alpha)
    {
        double[][] groups = [[0.7, 0.1, 0.1, 0.1], [0.1, 0.6, 0.2, 0.1], [0.05, 0.05, 0.3, 0.6]];
        var w = new double[9, 4];
        for (int i = 0; i < 9; i++)
        {
            for (int j = 0; j < 4; j++)
            {
                w[i, j] = groups[i % 3][j];
            }
        }

        var joint = JointDistribution.FromWeights(w);
        var r = _engine.InformationBottleneck(joint, new IbOptions { Beta = 50, Alpha = alpha, Clusters = 9 });
        Assert.Equal(3, r.Clusters);
        Assert.Equal(3, r.ClusterMarginal.Length);
        Assert.Equal(3 * 4, r.Decoder.Length);
        Assert.Equal(9 * 3, r.Encoder.Length);
        Assert.Equal(Math.Log2(3), r.HtBits, 1e-9);
        Assert.Equal(Math.Log2(3), r.IxtBits, 1e-9);
        Assert.Equal(joint.MutualInformation(InfoUnit.Bits), r.ItyBits, 1e-9);
        Assert.Equal(3, r.Assignments.Distinct().Count());
        for (int i = 0; i < 9; i++)
        {
            Assert.Equal(r.Assignments[i % 3], r.Assignments[i]);
        }
    }

    [Fact]
    public void A_sweep_is_monotone_and_finds_the_transition_of_the_binary_source()
    {
        // The DSBS with p = 0.1 has its only transition at beta_c = 1/(1-2p)^2 = 1.5625.
        var joint = ClosedForms.Dsbs(0.1);
        var betas = IbSweep.LogSpaced(0.5, 20, 25);
        var curve = _engine.InformationCurve(joint, betas, new IbOptions { Clusters = 2, MaxIterations = 100_000 });
        Assert.Equal(25, curve.Points.Count);
        for (int i = 1; i < curve.Points.Count; i++)
        {
            Assert.True(curve.Points[i].ItyBits >= curve.Points[i - 1].ItyBits - 1e-6, $"I(T;Y) fell between beta {curve.Points[i - 1].Beta} and {curve.Points[i].Beta}");
        }

        var transition = Assert.Single(curve.Transitions);
        Assert.InRange(1.5625, transition.BetaLow, transition.BetaHigh);
        Assert.Equal((1, 2), (transition.ClustersLow, transition.ClustersHigh));
    }

    [Fact]
    public void Bad_options_name_the_parameter()
    {
        var joint = RandomJoint(3, 3, 1);
        Assert.Equal("Beta", Assert.Throws<ArgumentException>(() => _engine.InformationBottleneck(joint, new IbOptions { Beta = -1 })).ParamName);
        Assert.Equal("Alpha", Assert.Throws<ArgumentException>(() => _engine.InformationBottleneck(joint, new IbOptions { Alpha = 2 })).ParamName);
        Assert.Equal("Clusters", Assert.Throws<ArgumentException>(() => _engine.InformationBottleneck(joint, new IbOptions { Clusters = 0 })).ParamName);
    }

    internal static JointDistribution RandomJoint(int x, int y, int seed)
    {
        var rng = new Random(seed);
        var w = new double[x, y];
        for (int i = 0; i < x; i++)
        {
            for (int j = 0; j < y; j++)
            {
                w[i, j] = Math.Pow(rng.NextDouble(), 3);
            }
        }

        return JointDistribution.FromWeights(w);
    }
}
