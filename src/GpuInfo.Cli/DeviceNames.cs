namespace GpuInfo.Cli;

/// <summary>
/// A device kind as --device takes it and 'gpuinfo devices' lists it (ilgpu-cpu, not the enum's
/// IlgpuCpu lowered to ilgpucpu), so that every report names a device the way the user writes it.
/// </summary>
internal static class DeviceNames
{
    public static string Kind(DeviceKind kind) => kind == DeviceKind.IlgpuCpu ? "ilgpu-cpu" : kind.ToString().ToLowerInvariant();

    /// <summary>"kind: name", a report's device field.</summary>
    public static string Of(DeviceReport device) => $"{Kind(device.Kind)}: {device.Name}";
}
