using System.CommandLine;
using System.Text.Json.Nodes;

namespace GpuInfo.Cli.Verbs;

/// <summary><c>gpuinfo ib</c>: one Information Bottleneck solution (IB, GIB or DIB) for a joint p(x,y).</summary>
internal static class IbCommand
{
    public static Command Create(TextWriter stdout)
    {
        var common = new CommonOptions();
        var joint = new Option<string>("--joint") { Description = "Non-negative [X,Y] matrix (.npy/.safetensors); normalised to p(x,y).", Required = true };
        var beta = new Option<double>("--beta") { Description = "Trade-off beta >= 0.", Required = true };
        var clusters = new Option<int?>("--clusters") { Description = "Clusters |T| (default |X|)." };
        var alpha = new Option<double>("--alpha") { Description = "1: IB, 0: deterministic IB, between: generalized IB.", DefaultValueFactory = _ => 1 };
        var restarts = new Option<int>("--restarts") { Description = "Random restarts (best objective wins).", DefaultValueFactory = _ => 4 };
        var seed = new Option<int>("--seed") { Description = "Seed of the initial encoders.", DefaultValueFactory = _ => 0 };
        var command = new Command("ib", "Information Bottleneck: compress X into T keeping what T says about Y.") { joint, beta, clusters, alpha, restarts, seed };
        common.AddTo(command);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(joint)!;
            var p = MatrixInput.Joint(path);
            var options = new IbOptions
            {
                Beta = parse.GetValue(beta),
                Alpha = parse.GetValue(alpha),
                Clusters = parse.GetValue(clusters),
                Restarts = parse.GetValue(restarts),
                Seed = parse.GetValue(seed),
            };
            using var engine = common.CreateEngine(parse);
            var r = engine.InformationBottleneck(p, options);
            var report = Report(r);
            report["device"] = $"{engine.Device.Kind.ToString().ToLowerInvariant()}: {engine.Device.Name}";
            CompareCommand.Print(stdout, parse.GetValue(common.Json), $"information bottleneck of {path}", report);
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
}
