using System.CommandLine;

namespace GpuInfo.Cli;

/// <summary>Options every verb takes: --json and --device.</summary>
internal sealed class CommonOptions
{
    public Option<bool> Json { get; } = JsonOption();

    /// <summary>--json alone, for the verbs that run no measure on a device (kernels, merge, convert, mi).</summary>
    public static Option<bool> JsonOption() => new("--json") { Description = "Print one JSON object on stdout and nothing else there." };

    public Option<string?> Device { get; } = new("--device")
    {
        Description = "auto|cuda|opencl|cpu|ilgpu-cpu, cuda:N, or a device index from 'gpuinfo devices' (default: GPUINFO_DEVICE, else auto). eval and compare also take all, or a list (cuda:0,cuda:1), to spread chunks over several devices.",
    };

    public void AddTo(Command command)
    {
        command.Add(Json);
        command.Add(Device);
    }

    public InfoEngine CreateEngine(ParseResult parse, Func<InfoEngineOptions, InfoEngineOptions>? configure = null) =>
        new((configure ?? (o => o))(new InfoEngineOptions { Device = parse.GetValue(Device) }));

    /// <summary>One engine, or one per device for "all" or a comma-separated list (from --device, else GPUINFO_DEVICE).</summary>
    public Engines CreateEngines(ParseResult parse)
    {
        string? request = parse.GetValue(Device) ?? Environment.GetEnvironmentVariable("GPUINFO_DEVICE");
        bool many = request is not null && (request.Contains(',', StringComparison.Ordinal) || request.Trim().Equals("all", StringComparison.OrdinalIgnoreCase));
        return new Engines(many ? InfoEngine.CreateEngines(request!) : [CreateEngine(parse)]);
    }

    /// <summary>The engines of one command, disposed together.</summary>
    internal sealed class Engines(IReadOnlyList<InfoEngine> list) : IDisposable
    {
        public IReadOnlyList<InfoEngine> List => list;

        public InfoEngine First => list[0];

        /// <summary>"kind: name" of each device, joined.</summary>
        public string Description => string.Join(", ", list.Select(e => DeviceNames.Of(e.Device)));

        public void Dispose()
        {
            foreach (var e in list)
            {
                e.Dispose();
            }
        }
    }
}
