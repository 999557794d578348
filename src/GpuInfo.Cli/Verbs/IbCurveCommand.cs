using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;

namespace GpuInfo.Cli.Verbs;

/// <summary><c>gpuinfo ib-curve</c>: a β sweep into the information plane, with CSV and a plot.</summary>
internal static class IbCurveCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var common = new CommonOptions();
        var input = new IbRowsInput();
        var min = new Option<double>("--beta-min") { Description = "Smallest beta (> 0).", Required = true };
        var max = new Option<double>("--beta-max") { Description = "Largest beta.", Required = true };
        var steps = new Option<int>("--steps") { Description = "Betas, log-spaced.", Required = true };
        var alpha = new Option<double>("--alpha") { Description = "1: IB, 0: deterministic IB, between: generalized IB.", DefaultValueFactory = _ => 1 };
        var clusters = new Option<int?>("--clusters") { Description = "Clusters |T| (default |X|)." };
        var restarts = new Option<int?>("--restarts") { Description = "Restarts per beta, the warm start first (default 2 for --joint, 1 for rows)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the initial encoders.", DefaultValueFactory = _ => 0 };
        var csv = new Option<string?>("--csv") { Description = "Write the points as CSV." };
        var plot = new Option<string?>("--plot") { Description = "Write the information plane as .svg or .png." };
        var command = new Command("ib-curve", "Sweep beta (high to low, warm starts) into an IB curve over a joint or over model outputs; find transitions; plot the information plane.")
        {
            min, max, steps, alpha, clusters, restarts, seed, csv, plot,
        };
        input.AddTo(command, clusterSummary: false);
        common.AddTo(command);
        command.SetAction(parse =>
        {
            var (path, overRows) = input.Input(parse);
            string? plotPath = parse.GetValue(plot);
            PlotFile.Check(plotPath);
            OutputFile.Check(parse.GetValue(csv));

            var betas = IbSweep.LogSpaced(parse.GetValue(min), parse.GetValue(max), parse.GetValue(steps));
            var options = input.Options(parse, overRows, new IbOptions
            {
                Alpha = parse.GetValue(alpha),
                Clusters = parse.GetValue(clusters),
                Restarts = parse.GetValue(restarts) ?? (overRows ? 1 : 2),
                Seed = parse.GetValue(seed),
            });
            using var engine = common.CreateEngine(parse, o => input.EngineOptions(parse, o));
            IbCurve curve;
            if (overRows)
            {
                using var opened = input.Open(parse, path);
                IbRowsInput.CheckRereads(engine, opened, stderr);
                curve = engine.InformationCurve(opened.Rows, betas, options, IbRowsInput.Progress(stderr));
            }
            else
            {
                curve = engine.InformationCurve(MatrixInput.Joint(path), betas, options);
            }

            var points = new JsonArray();
            foreach (var r in curve.Points)
            {
                points.Add(new JsonObject
                {
                    ["beta"] = r.Beta,
                    ["i_xt_bits"] = r.IxtBits,
                    ["i_ty_bits"] = r.ItyBits,
                    ["h_t_bits"] = r.HtBits,
                    ["clusters_used"] = r.Clusters,
                    ["converged"] = r.Converged,
                });
            }

            var transitions = new JsonArray();
            foreach (var t in curve.Transitions)
            {
                transitions.Add(new JsonObject { ["beta_low"] = t.BetaLow, ["beta_high"] = t.BetaHigh, ["clusters_low"] = t.ClustersLow, ["clusters_high"] = t.ClustersHigh });
            }

            if (parse.GetValue(csv) is { } csvPath)
            {
                WriteCsv(csvPath, curve);
            }

            if (plotPath is not null)
            {
                InformationPlanePlot.Save(plotPath, curve, Path.GetFileName(path));
            }

            var report = new JsonObject
            {
                ["i_xy_bits"] = curve.IxyBits,
                ["points"] = points,
                ["transitions"] = transitions,
                ["device"] = DeviceNames.Of(engine.Device),
                ["products"] = curve.Points[0].Products,
            };
            if (parse.GetValue(common.Json))
            {
                Json.Write(stdout, report);
            }
            else
            {
                var rows = curve.Points.Select(r => ($"beta {r.Beta:G4}", $"I(X;T) {r.IxtBits:F4}  I(T;Y) {r.ItyBits:F4}  H(T) {r.HtBits:F4}  clusters {r.Clusters}"))
                    .Concat(curve.Transitions.Select(t => ("transition", $"{t.ClustersHigh} -> {t.ClustersLow} clusters between beta {t.BetaHigh:G4} and {t.BetaLow:G4}")));
                Tables.Console(stdout).Write(Tables.KeyValue($"IB curve of {path} (I(X;Y) = {curve.IxyBits:F4} bits)", rows));
            }

            return ExitCode.Ok;
        });
        return command;
    }

    private static void WriteCsv(string path, IbCurve curve)
    {
        var sb = new StringBuilder("beta,i_xt_bits,i_ty_bits,h_t_bits,clusters_used\n");
        foreach (var r in curve.Points)
        {
            sb.AppendLine(string.Create(CultureInfo.InvariantCulture, $"{r.Beta:R},{r.IxtBits:R},{r.ItyBits:R},{r.HtBits:R},{r.Clusters}"));
        }

        try
        {
            File.WriteAllText(path, sb.ToString());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"{path}: cannot write: {e.Message}");
        }
    }
}
