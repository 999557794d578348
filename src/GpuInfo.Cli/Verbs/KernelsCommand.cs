using System.CommandLine;
using System.Text.Json.Nodes;
using GpuInfo.Backends.Ilgpu;

namespace GpuInfo.Cli.Verbs;

/// <summary>
/// <c>gpuinfo kernels --ptx sm_90 --out DIR</c>: compiles every kernel the CUDA path launches (each
/// dtype specialisation) to PTX with ILGPU's PTX backend, no GPU needed, and writes one .ptx per
/// kernel plus kernels.json (for auditing or hand-tuning, and to find compile errors before a device does).
/// </summary>
internal static class KernelsCommand
{
    public static Command Create(TextWriter stdout)
    {
        var json = CommonOptions.JsonOption();
        var ptx = new Option<string>("--ptx") { Description = $"Target architecture: {string.Join(", ", PtxCompiler.Targets.Keys)}.", Required = true };
        var output = new Option<string>("--out") { Description = "Directory for the .ptx files and kernels.json (created if needed).", Required = true };
        var command = new Command("kernels", "Compile every CUDA kernel to PTX without a GPU.") { ptx, output, json };
        command.SetAction(parse =>
        {
            string target = parse.GetValue(ptx)!, dir = parse.GetValue(output)!;
            if (!PtxCompiler.Targets.ContainsKey(target))
            {
                throw CliException.Usage($"--ptx must be one of {string.Join(", ", PtxCompiler.Targets.Keys)}, got '{target}'.");
            }

            var kernels = PtxCompiler.Compile(target);
            var entries = new JsonArray();
            try
            {
                Directory.CreateDirectory(dir);
                foreach (var k in kernels)
                {
                    string file = $"{k.Name}.{k.DTypes}.ptx";
                    File.WriteAllText(Path.Combine(dir, file), k.Ptx);
                    entries.Add(new JsonObject
                    {
                        ["entry"] = k.Name,
                        ["dtypes"] = k.DTypes,
                        ["file"] = file,
                        ["target"] = k.Target,
                        ["declared_target"] = k.DeclaredTarget,
                        ["ptx_isa"] = k.InstructionSet,
                        ["bytes"] = System.Text.Encoding.UTF8.GetByteCount(k.Ptx),
                    });
                }

                var catalog = new JsonObject { ["target"] = target, ["kernels"] = entries };
                File.WriteAllText(Path.Combine(dir, "kernels.json"), catalog.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw CliException.Usage($"{dir}: cannot write: {e.Message}");
            }

            var report = new JsonObject { ["target"] = target, ["kernels"] = kernels.Count, ["out"] = dir };
            CompareCommand.Print(stdout, parse.GetValue(json), $"PTX for {target}", report);
            return ExitCode.Ok;
        });
        return command;
    }
}
