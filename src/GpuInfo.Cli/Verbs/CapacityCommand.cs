using GpuInfo.Formats;
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
        var command = new Command("capacity", "Channel capacity (bits) and the optimal input distribution, by Blahut-Arimoto.") { channel };
        common.AddTo(command);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(channel)!;
            var w = MatrixFile.Read(path);
            var r = MatrixInput.Checked(path, () => BlahutArimoto.Capacity(w));
            var report = new JsonObject
            {
                ["capacity_bits"] = r.CapacityBits,
                ["input"] = new JsonArray([.. r.Input.Select(v => (JsonNode?)v)]),
                ["upper_bound_bits"] = r.UpperBoundBits,
                ["iterations"] = r.Iterations,
                ["converged"] = r.Converged,
            };
            CompareCommand.Print(stdout, parse.GetValue(common.Json), $"capacity of {path}", report);
            return ExitCode.Ok;
        });
        return command;
    }
}
