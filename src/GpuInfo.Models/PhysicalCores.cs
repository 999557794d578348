using System.Globalization;

namespace GpuInfo.Models;

/// <summary>
/// How many physical cores this process may run on: the CPUs of its affinity mask, hyperthread
/// siblings counted once, at most <see cref="Environment.ProcessorCount"/> (which also honours a
/// container's CPU quota). ONNX Runtime's own default, one operator thread per physical core, counted
/// one on a 2-core VM whose cores have one thread each, leaving a core idle beside the model (the
/// model ran 1.8x slower than with 2 threads); so the CPU provider is given this count instead.
/// </summary>
internal static class PhysicalCores
{
    /// <summary>The count on Linux (from /proc/self/status and /sys); null where the topology cannot be read.</summary>
    public static int? Count()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        try
        {
            string? allowed = File.ReadLines("/proc/self/status")
                .FirstOrDefault(line => line.StartsWith("Cpus_allowed_list:", StringComparison.Ordinal))?
                .Split(':', 2)[1];
            return allowed is null ? null : Count(allowed, ReadCore, Environment.ProcessorCount);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// The distinct (package, core) pairs of the CPUs in <paramref name="allowedList"/> (Linux's list
    /// syntax, e.g. "0-3,8"), at most <paramref name="processorCount"/>; null when the list does not
    /// parse or a CPU's core cannot be read.
    /// </summary>
    internal static int? Count(string allowedList, Func<int, string?> coreOf, int processorCount)
    {
        var cores = new HashSet<string>();
        foreach (string part in allowedList.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            string[] ends = part.Split('-');
            if (ends.Length > 2
                || !int.TryParse(ends[0], NumberStyles.None, CultureInfo.InvariantCulture, out int first)
                || !int.TryParse(ends[^1], NumberStyles.None, CultureInfo.InvariantCulture, out int last)
                || last < first)
            {
                return null;
            }

            for (int cpu = first; cpu <= last; cpu++)
            {
                if (coreOf(cpu) is not { } core)
                {
                    return null;
                }

                cores.Add(core);
            }
        }

        return cores.Count == 0 ? null : Math.Min(cores.Count, processorCount);
    }

    /// <summary>"package:core" of a Linux CPU, or null when its topology is not there.</summary>
    private static string? ReadCore(int cpu)
    {
        string topology = $"/sys/devices/system/cpu/cpu{cpu}/topology/";
        return File.Exists(topology + "core_id") && File.Exists(topology + "physical_package_id")
            ? File.ReadAllText(topology + "physical_package_id").Trim() + ":" + File.ReadAllText(topology + "core_id").Trim()
            : null;
    }
}
