using System.Text.Json.Nodes;

namespace GpuInfo.Cli.Verbs;

/// <summary>The demo's distribution section: entropies and MI of a joint, an IB solution, capacity and R(D) with closed forms beside them.</summary>
internal static class DistributionDemo
{
    public static JsonObject Run(InfoEngine engine)
    {
        // 24 contexts over 16 tokens in 4 topics: each context mostly predicts its topic's tokens.
        var weights = new double[24, 16];
        var rng = new Random(7);
        for (int x = 0; x < 24; x++)
        {
            for (int y = 0; y < 16; y++)
            {
                weights[x, y] = (y / 4 == x % 4 ? 4.0 : 0.3) * (0.5 + rng.NextDouble());
            }
        }

        var joint = JointDistribution.FromWeights(weights);
        var ib = engine.InformationBottleneck(joint, new IbOptions { Beta = 20, Clusters = 6, Seed = 1 });
        var dib = engine.InformationBottleneck(joint, new IbOptions { Beta = 20, Alpha = 0, Clusters = 6, Seed = 1 });
        var bsc = BlahutArimoto.Capacity(new[,] { { 0.9, 0.1 }, { 0.1, 0.9 } });
        var rd = BlahutArimoto.RateDistortion([0.7, 0.3], new double[,] { { 0, 1 }, { 1, 0 } }, 2.0);
        return new JsonObject
        {
            ["joint"] = "24 contexts x 16 tokens in 4 topics",
            ["h_x_bits"] = joint.EntropyX(),
            ["h_y_bits"] = joint.EntropyY(),
            ["h_xy_bits"] = joint.JointEntropy(),
            ["h_y_given_x_bits"] = joint.ConditionalEntropyYGivenX(),
            ["i_xy_bits"] = joint.MutualInformation(),
            ["ib_beta20"] = new JsonObject { ["i_xt_bits"] = ib.IxtBits, ["i_ty_bits"] = ib.ItyBits, ["clusters_used"] = ib.Clusters },
            ["dib_beta20"] = new JsonObject { ["i_xt_bits"] = dib.IxtBits, ["i_ty_bits"] = dib.ItyBits, ["clusters_used"] = dib.Clusters },
            ["capacity_bsc_0.1_bits"] = bsc.CapacityBits,
            ["capacity_bsc_0.1_closed_form"] = 1 - H2(0.1),
            ["rd_bernoulli_0.3_beta2_rate_bits"] = rd.RateBits,
            ["rd_bernoulli_0.3_beta2_distortion"] = rd.Distortion,
            ["rd_closed_form_h(p)-h(D)"] = H2(0.3) - H2(rd.Distortion),
        };
    }

    private static double H2(double p) => p <= 0 || p >= 1 ? 0 : -(p * Math.Log2(p)) - ((1 - p) * Math.Log2(1 - p));
}
