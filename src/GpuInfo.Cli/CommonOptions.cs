using System.CommandLine;

namespace GpuInfo.Cli;

/// <summary>Options every verb takes: --json and --device.</summary>
internal sealed class CommonOptions
{
    public Option<bool> Json { get; } = new("--json") { Description = "Print one JSON object on stdout and nothing else there." };

    public Option<string?> Device { get; } = new("--device")
    {
        Description = "auto|cuda|opencl|cpu|ilgpu-cpu, or a device index from 'gpuinfo devices' (default: GPUINFO_DEVICE, else auto).",
    };

    public void AddTo(Command command)
    {
        command.Add(Json);
        command.Add(Device);
    }

    public InfoEngine CreateEngine(ParseResult parse) =>
        new(new InfoEngineOptions { Device = parse.GetValue(Device) });
}
