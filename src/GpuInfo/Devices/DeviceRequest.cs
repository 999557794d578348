namespace GpuInfo;

/// <summary>
/// A parsed device request: <c>auto|cuda|opencl|cpu|ilgpu-cpu</c>, a kind with its ordinal among
/// devices of that kind (<c>cuda:1</c>), or a candidate index.
/// </summary>
internal readonly record struct DeviceRequest(string Text, string Source, DeviceKind? Kind, int? Index, int? Ordinal = null, string? CpuShape = null)
{
    public const string EnvironmentVariable = "GPUINFO_DEVICE";

    public bool IsAuto => Kind is null && Index is null;

    /// <summary>InfoEngineOptions.Device, else GPUINFO_DEVICE, else auto.</summary>
    /// <exception cref="ArgumentException">(ParamName "options") The device cannot be parsed, or is blank (null asks for the default).</exception>
    public static DeviceRequest Resolve(string? option)
    {
        if (option is not null)
        {
            return string.IsNullOrWhiteSpace(option)
                ? throw new ArgumentException("options.Device is blank; leave it null for GPUINFO_DEVICE or auto.", "options")
                : Parse(option, "option");
        }

        string? env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return string.IsNullOrWhiteSpace(env) ? Parse("auto", "default") : Parse(env, EnvironmentVariable);
    }

    public static DeviceRequest Parse(string text, string source)
    {
        string t = text.Trim().ToLowerInvariant();
        int? ordinal = null;
        int colon = t.IndexOf(':', StringComparison.Ordinal);
        string name = colon < 0 ? t : t[..colon];
        if (name == "ilgpu-cpu" && t[(colon + 1)..] is "nvidia" or "amd" or "intel")
        {
            // ILGPU's CPU accelerator emulating that vendor's GPU (warp size, group limits), to test kernels in its shape.
            return new DeviceRequest(t, source, DeviceKind.IlgpuCpu, null, null, t[(colon + 1)..]);
        }

        if (colon >= 0)
        {
            if (!int.TryParse(t.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int n)
                || name is not ("cuda" or "opencl" or "ilgpu-cpu"))
            {
                throw new ArgumentException(
                    $"unknown device '{text}' (from {source}); a numbered device is cuda:N, opencl:N or ilgpu-cpu:N with N >= 0, and ilgpu-cpu:nvidia|amd|intel emulates that vendor's GPU.", "options");
            }

            ordinal = n;
        }

        DeviceKind? kind = name switch
        {
            "auto" => null,
            "cpu" => DeviceKind.Cpu,
            "ilgpu-cpu" => DeviceKind.IlgpuCpu,
            "cuda" => DeviceKind.Cuda,
            "opencl" => DeviceKind.OpenCL,
            _ when int.TryParse(name, out _) => null,
            _ => throw new ArgumentException(
                $"unknown device '{text}' (from {source}); expected auto, cuda, opencl, cpu, ilgpu-cpu, cuda:N or a device index.", "options"),
        };
        int? index = colon < 0 && int.TryParse(name, out int i) ? i : null;
        if (index < 0)
        {
            throw new ArgumentException($"device index must be >= 0, got {index} (from {source}).", "options");
        }

        return new DeviceRequest(t, source, kind, index, ordinal);
    }
}
