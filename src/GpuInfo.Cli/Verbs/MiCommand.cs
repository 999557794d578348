using System.CommandLine;
using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;

namespace GpuInfo.Cli.Verbs;

/// <summary><c>gpuinfo mi</c>: the entropies and mutual information of a joint table; with --counts, their bias correction and the G-test.</summary>
internal static class MiCommand
{
    public static Command Create(TextWriter stdout)
    {
        var json = CommonOptions.JsonOption();
        var joint = new Option<string>("--joint") { Description = "p(x, y) as a non-negative [X, Y] matrix (normalised by the tool), or counts n(x, y) with --counts.", Required = true };
        var counts = new Option<bool>("--counts") { Description = "The entries are counts of paired samples (whole numbers): add N, Miller-Madow's corrected I(X;Y) and the G-test of independence." };
        // No --device: this is float64 host work, and an option that is never read would be a silent no-op.
        var command = new Command("mi", "Entropies, conditional entropies and mutual information (bits) of a joint distribution or a table of counts, in float64 on the host.") { joint, counts, json };
        command.SetAction(parse =>
        {
            string path = parse.GetValue(joint)!;
            var (values, rows, columns) = MatrixInput.Flat(path, parse.GetValue(counts) ? "a table of counts" : "a joint");
            var table = parse.GetValue(counts) ? MatrixInput.Checked(path, () => ContingencyTable.FromOwnedCounts(values, rows, columns, "joint")) : null;
            var p = table?.Joint ?? MatrixInput.Checked(path, () => JointDistribution.FromOwnedWeights(values, rows, columns));
            var info = JointInformation.Of(p);
            var report = new JsonObject
            {
                ["x"] = p.X,
                ["y"] = p.Y,
                ["h_x_bits"] = info.EntropyX,
                ["h_y_bits"] = info.EntropyY,
                ["h_xy_bits"] = info.JointEntropy,
                ["h_y_given_x_bits"] = info.ConditionalEntropyYGivenX,
                ["h_x_given_y_bits"] = info.ConditionalEntropyXGivenY,
                ["i_xy_bits"] = info.MutualInformation,
                ["symmetric_uncertainty"] = Json.Number(info.SymmetricUncertainty),
                ["variation_of_information_bits"] = info.VariationOfInformation,
            };
            if (table is not null)
            {
                report["samples"] = table.Samples;
                report["nonzero_cells"] = table.NonzeroCells;
                report["i_xy_miller_madow_bits"] = table.MillerMadowMutualInformation();
                report["g_statistic"] = table.GStatistic;
                report["degrees_of_freedom"] = table.DegreesOfFreedom;
                report["p_value"] = table.PValue;
            }

            CompareCommand.Print(stdout, parse.GetValue(json), $"information of {path}", report);
            return ExitCode.Ok;
        });
        return command;
    }
}
