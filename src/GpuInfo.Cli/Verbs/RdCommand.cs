using GpuInfo.Formats;
using System.CommandLine;
using System.Text.Json.Nodes;

namespace GpuInfo.Cli.Verbs;

/// <summary><c>gpuinfo rd</c>: a rate-distortion point by Blahut-Arimoto.</summary>
internal static class RdCommand
{
    public static Command Create(TextWriter stdout)
    {
        var common = new CommonOptions();
        var source = new Option<string>("--source") { Description = "Source distribution p(x), a vector [X] (normalised).", Required = true };
        var distortion = new Option<string>("--distortion") { Description = "Distortion d(x, x_hat), a matrix [X, X_hat], entries >= 0.", Required = true };
        var beta = new Option<double>("--beta") { Description = "Slope parameter beta >= 0 (R(D) slope -beta, natural exp).", Required = true };
        var tolerance = new Option<double>("--tolerance") { Description = "Stop when the rate is within this many bits of Blahut's lower bound on R(D) at the distortion reached.", DefaultValueFactory = _ => BlahutArimoto.DefaultRateTolerance / Math.Log(2) };
        var maxIterations = new Option<int>("--max-iterations") { Description = "Stop after this many iterations (converged: false if the bounds are still apart).", DefaultValueFactory = _ => 1_000_000 };
        var command = new Command("rd", "Rate-distortion by Blahut-Arimoto at one beta: rate (bits) and distortion.") { source, distortion, beta, tolerance, maxIterations };
        common.AddTo(command);
        command.SetAction(parse =>
        {
            string sourcePath = parse.GetValue(source)!, distortionPath = parse.GetValue(distortion)!;
            var (gap, iterations) = MatrixInput.Stopping(parse.GetValue(tolerance), parse.GetValue(maxIterations));
            var s = MatrixFile.Read(sourcePath);
            if (s.GetLength(0) != 1)
            {
                throw CliException.BadData($"{sourcePath}: the source must be a vector [X]; got [{s.GetLength(0)}, {s.GetLength(1)}].");
            }

            var p = Enumerable.Range(0, s.GetLength(1)).Select(i => s[0, i]).ToArray();
            var d = MatrixFile.Read(distortionPath);
            if (d.GetLength(0) != p.Length)
            {
                throw CliException.BadData($"{distortionPath}: has {d.GetLength(0)} rows but the source has {p.Length} symbols.");
            }

            using var engine = common.CreateEngine(parse);
            var r = MatrixInput.Checked(p.Any(v => !(v >= 0) || double.IsInfinity(v)) || p.Sum() <= 0 ? sourcePath : distortionPath,
                () => engine.RateDistortion(p, d, parse.GetValue(beta), gap * Math.Log(2), iterations));
            var report = new JsonObject
            {
                ["beta"] = r.Beta,
                ["rate_bits"] = r.RateBits,
                ["distortion"] = r.Distortion,
                ["rate_lower_bound_bits"] = r.LowerBoundBits,
                ["reproduction"] = new JsonArray([.. r.Reproduction.Select(v => (JsonNode?)v)]),
                ["iterations"] = r.Iterations,
                ["converged"] = r.Converged,
                ["device"] = DeviceNames.Of(engine.Device),
                ["products"] = r.Products,
            };
            CompareCommand.Print(stdout, parse.GetValue(common.Json), "rate-distortion (Blahut-Arimoto)", report);
            return ExitCode.Ok;
        });
        return command;
    }
}
