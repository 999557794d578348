using GpuInfo.Backends;
using GpuInfo.Backends.Cpu;
using GpuInfo.Backends.Ilgpu;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ILGPU.Runtime.OpenCL;

namespace GpuInfo;

/// <summary>
/// Finds ILGPU accelerators and picks one: CUDA first, then an OpenCL device ILGPU can compile for,
/// else the SIMD CPU path. Every skipped device gets a reason.
/// </summary>
internal static class DeviceSelector
{
    public static (IRowBackend Backend, DeviceReport Report) Select(DeviceRequest request, InfoEngineOptions options)
    {
        if (request.Kind == DeviceKind.Cpu)
        {
            return (new SimdCpuBackend(options.MaxDegreeOfParallelism), CpuReport(request, "requested", []));
        }

        var context = CreateContext(request.CpuShape);
        try
        {
            var candidates = Describe(context);
            var order = Order(request, candidates);
            var notes = new List<DeviceCandidate>(candidates);
            foreach (var candidate in order)
            {
                var device = Devices(context)[candidate.Index];
                Accelerator accelerator;
                try
                {
                    accelerator = device.CreateAccelerator(context);
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    notes[candidate.Index] = candidate with { Usable = false, Note = $"could not start: {e.Message}" };
                    continue;
                }

                long budget = options.DeviceMemoryBudgetBytes ?? DefaultBudget(accelerator);
                var backend = new IlgpuBackend(accelerator, budget, context);
                var report = new DeviceReport
                {
                    Kind = candidate.Kind,
                    Name = accelerator.Name,
                    Request = request.Text,
                    RequestSource = request.Source,
                    Reason = Why(request, candidate, notes),
                    Candidates = notes,
                    MemoryBytes = accelerator.MemorySize,
                };
                return (backend, report);
            }

            if (!request.IsAuto)
            {
                throw new DeviceUnavailableException(Unavailable(request, notes));
            }

            context.Dispose();
            return (new SimdCpuBackend(options.MaxDegreeOfParallelism), CpuReport(request, FallbackReason(notes), notes));
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>Every ILGPU device with whether it can run GpuInfo (starting each to be sure).</summary>
    public static IReadOnlyList<DeviceCandidate> Probe()
    {
        using var context = CreateContext();
        var candidates = Describe(context).ToList();
        var devices = Devices(context);
        for (int i = 0; i < candidates.Count; i++)
        {
            if (!candidates[i].Usable)
            {
                continue;
            }

            try
            {
                using var accelerator = devices[i].CreateAccelerator(context);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                candidates[i] = candidates[i] with { Usable = false, Note = $"could not start: {e.Message}" };
            }
        }

        return candidates;
    }

    private static Context CreateContext(string? cpuShape = null)
    {
        CudaLibraries.Register();
        return Context.Create(builder => builder
            .Cuda()
            .OpenCL(_ => true)
            .CPU(cpuShape switch
            {
                "nvidia" => CPUDeviceKind.Nvidia,
                "amd" => CPUDeviceKind.AMD,
                "intel" => CPUDeviceKind.Intel,
                _ => CPUDeviceKind.Default,
            })
            .EnableAlgorithms()
            .Optimize(OptimizationLevel.O2));
    }

    private static List<Device> Devices(Context context) =>
        [.. context.GetCudaDevices(), .. context.GetCLDevices(), .. context.GetCPUDevices()];

    private static List<DeviceCandidate> Describe(Context context)
    {
        var list = new List<DeviceCandidate>();
        foreach (var device in Devices(context))
        {
            int index = list.Count;
            list.Add(device switch
            {
                CudaDevice cuda => new DeviceCandidate(index, DeviceKind.Cuda, cuda.Name, cuda.MemorySize, true,
                    $"CUDA {cuda.Architecture?.ToString() ?? "unknown architecture"}, {cuda.NumMultiprocessors} SMs"),
                CLDevice cl when !cl.Capabilities.GenericAddressSpace => new DeviceCandidate(index, DeviceKind.OpenCL,
                    cl.Name, cl.MemorySize, false,
                    $"skipped: OpenCL device on {cl.PlatformName} lacks generic address space support, which ILGPU's OpenCL backend needs"),
                CLDevice cl => new DeviceCandidate(index, DeviceKind.OpenCL, cl.Name, cl.MemorySize, true,
                    $"OpenCL {cl.DeviceVersion} on {cl.PlatformName}"),
                _ => new DeviceCandidate(index, DeviceKind.IlgpuCpu, device.Name, 0, true,
                    $"ILGPU CPU accelerator (simulates a GPU to test kernels: warp {device.WarpSize}, groups up to {device.MaxNumThreadsPerGroup} threads; slow)"),
            });
        }

        return list;
    }

    private static IEnumerable<DeviceCandidate> Order(DeviceRequest request, List<DeviceCandidate> candidates)
    {
        if (request.Index is int index)
        {
            if (index >= candidates.Count)
            {
                throw new DeviceUnavailableException(
                    $"device index {index} (from {request.Source}) does not exist: {candidates.Count} ILGPU device(s) found; run 'gpuinfo devices'.");
            }

            if (!candidates[index].Usable)
            {
                throw new DeviceUnavailableException($"device {index} ({candidates[index].Name}) is not usable: {candidates[index].Note}");
            }

            return [candidates[index]];
        }

        if (request is { Kind: DeviceKind numbered, Ordinal: int ordinal })
        {
            var ofKind = candidates.Where(c => c.Kind == numbered).ToList();
            if (ordinal >= ofKind.Count)
            {
                throw new DeviceUnavailableException(
                    $"device '{request.Text}' (from {request.Source}) does not exist: {ofKind.Count} {numbered} device(s) found; run 'gpuinfo devices'.");
            }

            if (!ofKind[ordinal].Usable)
            {
                throw new DeviceUnavailableException($"device '{request.Text}' ({ofKind[ordinal].Name}) is not usable: {ofKind[ordinal].Note}");
            }

            return [ofKind[ordinal]];
        }

        var kinds = request.Kind is DeviceKind kind ? [kind] : new[] { DeviceKind.Cuda, DeviceKind.OpenCL };
        return kinds.SelectMany(k => candidates.Where(c => c.Kind == k && c.Usable));
    }

    private static string Why(DeviceRequest request, DeviceCandidate chosen, List<DeviceCandidate> notes)
    {
        if (!request.IsAuto)
        {
            return $"requested '{request.Text}' ({request.Source})";
        }

        var skipped = notes.Where(n => n.Index != chosen.Index && !n.Usable && n.Kind is DeviceKind.Cuda or DeviceKind.OpenCL).ToList();
        string first = chosen.Kind == DeviceKind.Cuda ? "first usable CUDA device" : "no usable CUDA device; first usable OpenCL device";
        return skipped.Count == 0 ? first : $"{first} ({skipped.Count} other device(s) skipped)";
    }

    private static string FallbackReason(List<DeviceCandidate> notes)
    {
        var gpus = notes.Where(n => n.Kind is DeviceKind.Cuda or DeviceKind.OpenCL).ToList();
        if (gpus.Count == 0)
        {
            return "no CUDA or OpenCL device found; using the SIMD CPU path";
        }

        return "no usable CUDA or OpenCL device (" + string.Join("; ", gpus.Select(g => $"{g.Name}: {g.Note}")) + "); using the SIMD CPU path";
    }

    private static string Unavailable(DeviceRequest request, List<DeviceCandidate> notes)
    {
        var kind = request.Kind;
        var matching = notes.Where(n => n.Kind == kind).ToList();
        string what = request.Text;
        return matching.Count == 0
            ? $"no {what} device found (requested by {request.Source})"
            : $"no usable {what} device (requested by {request.Source}): " + string.Join("; ", matching.Select(m => $"{m.Name}: {m.Note}"));
    }

    private static DeviceReport CpuReport(DeviceRequest request, string reason, IReadOnlyList<DeviceCandidate> notes) => new()
    {
        Kind = DeviceKind.Cpu,
        Name = $"SIMD CPU ({Environment.ProcessorCount} threads, {SimdDescription()})",
        Request = request.Text,
        RequestSource = request.Source,
        Reason = request.Kind == DeviceKind.Cpu ? $"requested 'cpu' ({request.Source})" : reason,
        Candidates = notes,
    };

    private static string SimdDescription() =>
        System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "AVX-512"
        : System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "AVX2"
        : "no 256-bit SIMD";

    private static long DefaultBudget(Accelerator accelerator) =>
        accelerator.AcceleratorType == AcceleratorType.CPU
            ? 256L << 20
            : Math.Min(accelerator.MemorySize / 3, 4L << 30);
}
