namespace GpuInfo;

/// <summary>A parsed device request: <c>auto|cuda|opencl|cpu|ilgpu-cpu</c> or a candidate index.</summary>
internal readonly record struct DeviceRequest(string Text, string Source, DeviceKind? Kind, int? Index)
{
    public const string EnvironmentVariable = "GPUINFO_DEVICE";

    public bool IsAuto => Kind is null && Index is null;

    public static DeviceRequest Resolve(string? option)
    {
        if (!string.IsNullOrWhiteSpace(option))
        {
            return Parse(option, "option");
        }

        string? env = Environment.GetEnvironmentVariable(EnvironmentVariable);
        return string.IsNullOrWhiteSpace(env) ? Parse("auto", "default") : Parse(env, EnvironmentVariable);
    }

    public static DeviceRequest Parse(string text, string source)
    {
        string t = text.Trim().ToLowerInvariant();
        DeviceKind? kind = t switch
        {
            "auto" => null,
            "cpu" => DeviceKind.Cpu,
            "ilgpu-cpu" => DeviceKind.IlgpuCpu,
            "cuda" => DeviceKind.Cuda,
            "opencl" => DeviceKind.OpenCL,
            _ when int.TryParse(t, out _) => null,
            _ => throw new ArgumentException(
                $"unknown device '{text}' (from {source}); expected auto, cuda, opencl, cpu, ilgpu-cpu or a device index.", "device"),
        };
        int? index = int.TryParse(t, out int i) ? i : null;
        if (index < 0)
        {
            throw new ArgumentException($"device index must be >= 0, got {index} (from {source}).", "device");
        }

        return new DeviceRequest(t, source, kind, index);
    }
}
