using System.CommandLine;
using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;
using GpuInfo.Formats;

namespace GpuInfo.Cli.Verbs;

/// <summary><c>gpuinfo ib</c>: one Information Bottleneck solution (IB, GIB or DIB) for a joint p(x,y) or over rows of model outputs.</summary>
internal static class IbCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var common = new CommonOptions();
        var input = new IbRowsInput();
        var beta = new Option<double>("--beta") { Description = "Trade-off beta >= 0.", Required = true };
        var clusters = new Option<int?>("--clusters") { Description = "Clusters |T| (default |X|)." };
        var alpha = new Option<double>("--alpha") { Description = "1: IB, 0: deterministic IB, between: generalized IB.", DefaultValueFactory = _ => 1 };
        var restarts = new Option<int?>("--restarts") { Description = "Random restarts, best objective wins (default 4 for --joint, 1 for rows)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the initial encoders.", DefaultValueFactory = _ => 0 };
        var assignments = new Option<string?>("--assignments") { Description = "Write argmax_t q(t|x) per row as int32 .npy (the hard assignment of the deterministic IB)." };
        var decoders = new Option<string?>("--decoders") { Description = "Write q(y|t) as float32 .npy [clusters, vocab]." };
        var command = new Command("ib", "Information Bottleneck: compress X into T keeping what T says about Y; over a joint or over model outputs (which contexts does the model treat alike?).")
        {
            beta, clusters, alpha, restarts, seed, assignments, decoders,
        };
        input.AddTo(command);
        common.AddTo(command);
        command.SetAction(parse =>
        {
            var (path, rows) = input.Input(parse);
            OutputFile.Check(parse.GetValue(assignments));
            OutputFile.Check(parse.GetValue(decoders));
            var options = input.Options(parse, rows, new IbOptions
            {
                Beta = parse.GetValue(beta),
                Alpha = parse.GetValue(alpha),
                Clusters = parse.GetValue(clusters),
                Restarts = parse.GetValue(restarts) ?? (rows ? 1 : 4),
                Seed = parse.GetValue(seed),
            });
            using var engine = common.CreateEngine(parse, o => input.EngineOptions(parse, o));
            IbResult r;
            JsonArray? summary = null;
            IbProgressPrinter? progress = null;
            if (rows)
            {
                using var opened = input.Open(parse, path);
                var conditional = opened.Rows;
                IbRowsInput.CheckRereads(engine, opened, stderr);
                progress = IbRowsInput.Progress(stderr);
                r = engine.InformationBottleneck(conditional, options, progress);
                summary = input.Clusters(parse, r, opened);
            }
            else
            {
                r = engine.InformationBottleneck(MatrixInput.Joint(path), options);
            }

            Write(parse.GetValue(assignments), r.Assignments, [r.Assignments.Length]);
            Write(parse.GetValue(decoders), r.Decoder.Select(v => (float)v).ToArray(), [r.ClusterMarginal.Length, r.Decoder.Length / r.ClusterMarginal.Length]);

            var report = Report(r);
            report["device"] = DeviceNames.Of(engine.Device);
            report["products"] = r.Products;
            if (progress is not null)
            {
                report["seconds_per_iteration"] = progress.SecondsPerIteration;
                report["products_seconds_per_iteration"] = progress.ProductSecondsPerIteration;
            }

            if (summary is not null)
            {
                report["clusters"] = summary;
            }

            if (summary is null || parse.GetValue(common.Json))
            {
                CompareCommand.Print(stdout, parse.GetValue(common.Json), $"information bottleneck of {path}", report);
            }
            else
            {
                var lines = report.Where(kv => kv.Key != "clusters").Select(kv => (kv.Key, Tables.Value(kv.Value)));
                Tables.Console(stdout).Write(Tables.KeyValue($"information bottleneck of {path}", lines.Concat(IbRowsInput.ClusterLines(summary))));
            }

            return ExitCode.Ok;
        });
        return command;
    }

    public static JsonObject Report(IbResult r) => new()
    {
        ["beta"] = r.Beta,
        ["alpha"] = r.Alpha,
        ["i_xt_bits"] = r.IxtBits,
        ["i_ty_bits"] = r.ItyBits,
        ["h_t_bits"] = r.HtBits,
        ["i_xy_bits"] = r.IxyBits,
        ["clusters_used"] = r.Clusters,
        ["iterations"] = r.Iterations,
        ["converged"] = r.Converged,
    };

    private static void Write<T>(string? path, T[] data, long[] shape)
        where T : unmanaged
    {
        if (path is null)
        {
            return;
        }

        try
        {
            NpyFormat.Write<T>(path, data, shape);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"{path}: cannot write: {e.Message}");
        }
    }
}
