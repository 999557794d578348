namespace GpuInfo;

public sealed partial class InfoEngine
{
    /// <summary>
    /// One engine per device, for spreading a corpus run over several accelerators
    /// (<see cref="Corpus.CorpusRun"/> takes the list): <c>all</c> is every usable CUDA device, else
    /// every usable OpenCL device, else the SIMD CPU path (one engine: it already uses every core);
    /// otherwise a comma-separated list of device requests, e.g. <c>cuda:0,cuda:1</c>, <c>0,2</c>, or
    /// <c>ilgpu-cpu,ilgpu-cpu</c> (several ILGPU CPU accelerators, to test multi-device runs).
    /// A single request gives one engine.
    /// </summary>
    /// <exception cref="ArgumentException">A request in the list cannot be parsed, or the list is empty.</exception>
    /// <exception cref="DeviceUnavailableException">A requested device is absent or unusable.</exception>
    public static IReadOnlyList<InfoEngine> CreateEngines(string devices, InfoEngineOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(devices);
        var template = options ?? new InfoEngineOptions();
        var requests = devices.Trim().Equals("all", StringComparison.OrdinalIgnoreCase)
            ? AllDevices()
            : devices.Split(',', StringSplitOptions.TrimEntries);
        if (requests.Length == 0 || requests.Any(string.IsNullOrEmpty))
        {
            throw new ArgumentException($"'{devices}' is not a list of devices (e.g. cuda:0,cuda:1 or all).", nameof(devices));
        }

        var engines = new List<InfoEngine>();
        try
        {
            foreach (var request in requests)
            {
                engines.Add(new InfoEngine(template with { Device = request }));
            }
        }
        catch (Exception e)
        {
            engines.ForEach(engine => engine.Dispose());
            if (e is ArgumentException { ParamName: "options" } a)
            {
                // The request came from this list, not from the options' Device.
                throw new ArgumentException(a.Message.Replace(" (Parameter 'options')", "", StringComparison.Ordinal).Replace("(from option)", "(from the list)", StringComparison.Ordinal), nameof(devices), a);
            }

            throw;
        }

        return engines;
    }

    private static string[] AllDevices()
    {
        var usable = ProbeDevices().Where(c => c.Usable).ToList();
        foreach (var kind in new[] { DeviceKind.Cuda, DeviceKind.OpenCL })
        {
            var ofKind = usable.Where(c => c.Kind == kind).ToList();
            if (ofKind.Count > 0)
            {
                return [.. ofKind.Select(c => c.Index.ToString(System.Globalization.CultureInfo.InvariantCulture))];
            }
        }

        return ["cpu"];
    }
}
