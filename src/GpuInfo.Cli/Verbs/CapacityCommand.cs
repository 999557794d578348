using System.CommandLine;
using System.Text.Json.Nodes;

namespace GpuInfo.Cli.Verbs;

/// <summary><c>gpuinfo capacity</c>: channel capacity and the capacity-achieving input, by Blahut-Arimoto.</summary>
internal static class CapacityCommand
{
    public static Command Create(TextWriter stdout)
    {
        var common = new CommonOptions();
        var channel = new Option<string>("--channel") { Description = "Channel W[x][y] = p(y|x), a matrix whose rows sum to 1.", Required = true };
        var tolerance = new Option<double>("--tolerance") { Description = "Stop when the upper bound max_x D(W(.|x) || q) is within this many bits of the capacity's lower bound.", DefaultValueFactory = _ => 1e-12 / Math.Log(2) };
        var maxIterations = new Option<int>("--max-iterations") { Description = "Stop after this many iterations (converged: false if the bounds are still apart).", DefaultValueFactory = _ => 1_000_000 };
        var command = new Command("capacity", "Channel capacity (bits) and the optimal input distribution, by Blahut-Arimoto.") { channel, tolerance, maxIterations };
        common.AddTo(command);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(channel)!;
            var (gap, iterations) = MatrixInput.Stopping(parse.GetValue(tolerance), parse.GetValue(maxIterations));
            var w = MatrixInput.Channel(path);
            using var engine = common.CreateEngine(parse);
            var r = MatrixInput.Checked(path, () => engine.ChannelCapacity(w, gap * Math.Log(2), iterations));
            var report = new JsonObject
            {
                ["capacity_bits"] = r.CapacityBits,
                ["input"] = new JsonArray([.. r.Input.Select(v => (JsonNode?)v)]),
                ["upper_bound_bits"] = r.UpperBoundBits,
                ["iterations"] = r.Iterations,
                ["converged"] = r.Converged,
                ["device"] = DeviceNames.Of(engine.Device),
                ["products"] = r.Products,
            };
            CompareCommand.Print(stdout, parse.GetValue(common.Json), $"capacity of {path}", report);
            return ExitCode.Ok;
        });
        return command;
    }
}
