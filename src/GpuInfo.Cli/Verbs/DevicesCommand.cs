using System.CommandLine;
using System.Text.Json.Nodes;
using GpuInfo.Cli.Output;
using Spectre.Console;

namespace GpuInfo.Cli.Verbs;

/// <summary><c>gpuinfo devices</c>: every accelerator found, which one auto picks, and why others were skipped.</summary>
internal static class DevicesCommand
{
    public static Command Create(TextWriter stdout)
    {
        var common = new CommonOptions();
        var command = new Command("devices", "List accelerators, which one 'auto' (or --device) picks, and why others were skipped.");
        common.AddTo(command);
        command.SetAction(parse =>
        {
            var candidates = InfoEngine.ProbeDevices();
            using var engine = common.CreateEngine(parse);
            var chosen = engine.Device;
            string? cuBlas = chosen.Kind == DeviceKind.Cuda && engine.Backend is Backends.Ilgpu.IlgpuBackend gpu
                ? Backends.Ilgpu.CuBlasChunkProducts.Describe(gpu)
                : null;
            string cpuProducts = Backends.Cpu.Blas.Sgemm.Create(Environment.ProcessorCount).Name;
            if (parse.GetValue(common.Json))
            {
                var list = new JsonArray();
                foreach (var c in candidates)
                {
                    list.Add(new JsonObject
                    {
                        ["index"] = c.Index,
                        ["kind"] = DeviceNames.Kind(c.Kind),
                        ["name"] = c.Name,
                        ["memory_bytes"] = c.MemoryBytes,
                        ["usable"] = c.Usable,
                        ["note"] = c.Note,
                    });
                }

                Json.Write(stdout, new JsonObject
                {
                    ["devices"] = list,
                    ["chosen"] = new JsonObject
                    {
                        ["kind"] = DeviceNames.Kind(chosen.Kind),
                        ["name"] = chosen.Name,
                        ["request"] = chosen.Request,
                        ["request_source"] = chosen.RequestSource,
                        ["reason"] = chosen.Reason,
                        ["cublas"] = cuBlas,
                    },
                    ["cpu_products"] = cpuProducts,
                });
                return ExitCode.Ok;
            }

            var console = Tables.Console(stdout);
            var table = new Table().Title("ILGPU devices").AddColumns("#", "kind", "name", "memory", "usable", "note");
            foreach (var c in candidates)
            {
                table.AddRow(c.Index.ToString(System.Globalization.CultureInfo.InvariantCulture), DeviceNames.Kind(c.Kind), Markup.Escape(c.Name),
                    c.MemoryBytes > 0 ? $"{c.MemoryBytes / (double)(1L << 30):F1} GiB" : "-", c.Usable ? "yes" : "no", Markup.Escape(c.Note));
            }

            table.AddRow("-", "cpu", Markup.Escape("SIMD CPU path"), "-", "yes", "the production CPU path (always available)");
            console.Write(table);
            console.MarkupLine($"[bold]chosen[/]: {DeviceNames.Kind(chosen.Kind)} ({Markup.Escape(chosen.Name)}): {Markup.Escape(chosen.Reason)}");
            if (cuBlas is not null)
            {
                console.MarkupLine($"[bold]IB products[/]: {Markup.Escape(cuBlas)}");
            }

            console.MarkupLine($"[bold]CPU IB products[/]: {Markup.Escape(cpuProducts)}");

            return ExitCode.Ok;
        });
        return command;
    }
}
