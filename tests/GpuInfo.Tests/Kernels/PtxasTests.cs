using System.Diagnostics;
using System.Text.RegularExpressions;
using GpuInfo.Backends.Ilgpu;
using GpuInfo.Kernels;

namespace GpuInfo.Tests.Kernels;

/// <summary>
/// Every kernel's PTX, assembled by NVIDIA's ptxas for a real architecture, no GPU needed: PTX the
/// driver would reject, registers that would make a group of <see cref="GroupMerge.MaxGroupSize"/>
/// threads fail to launch (65536 registers a group), and spills or stack frames (local memory: slow)
/// are all found here. ptxas comes from <c>scripts/install-ptxas.sh</c> (CI runs it), or
/// GPUINFO_PTXAS, or the PATH; without it the test skips with that reason.
/// </summary>
public sealed partial class PtxasTests(ITestOutputHelper output)
{
    private const int RegistersPerGroup = 65536;

    [Theory]
    [InlineData("sm_80")]
    [InlineData("sm_90")]
    public void Every_kernel_assembles_without_spills_and_fits_a_full_group(string target)
    {
        string? ptxas = Find();
        Assert.SkipWhen(ptxas is null, "ptxas not found: run scripts/install-ptxas.sh (CI does), or set GPUINFO_PTXAS");
        using var dir = new Formats.TempDir();
        var failures = new List<string>();
        foreach (var kernel in PtxCompiler.Compile(target))
        {
            string file = Path.Combine(dir.Path, $"{kernel.Name}.{kernel.DTypes}.ptx");
            File.WriteAllText(file, kernel.Ptx);
            var (code, log) = Run(ptxas!, $"-arch={target} -v -o {Path.Combine(dir.Path, "out.cubin")} {file}");
            string label = $"{kernel.Name} {kernel.DTypes}";
            if (code != 0)
            {
                failures.Add($"{label}: ptxas exit {code}: {log}");
                continue;
            }

            var usage = Usage.Parse(log);
            output.WriteLine($"{target} {label}: {usage.Registers} registers, {usage.SharedBytes} B shared, {usage.SpillStoreBytes}/{usage.SpillLoadBytes} B spilled, {usage.StackBytes} B stack");
            if (usage.Registers * GroupMerge.MaxGroupSize > RegistersPerGroup)
            {
                failures.Add($"{label}: {usage.Registers} registers a thread; a group of {GroupMerge.MaxGroupSize} needs {usage.Registers * GroupMerge.MaxGroupSize} > {RegistersPerGroup}");
            }

            if (usage.SpillStoreBytes + usage.SpillLoadBytes + usage.StackBytes > 0)
            {
                failures.Add($"{label}: local memory: {usage.SpillStoreBytes} B spill stores, {usage.SpillLoadBytes} B spill loads, {usage.StackBytes} B stack");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public void The_usage_line_is_read_as_ptxas_writes_it()
    {
        const string log = """
            ptxas info    : 0 bytes gmem
            ptxas info    : Compiling entry function 'Kernel_PairStats' for 'sm_90'
            ptxas info    : Function properties for Kernel_PairStats
                24 bytes stack frame, 8 bytes spill stores, 12 bytes spill loads
            ptxas info    : Used 62 registers, 416 bytes smem, 400 bytes cmem[0]
            """;
        Assert.Equal(new Usage(62, 416, 8, 12, 24), Usage.Parse(log));
        Assert.Equal(new Usage(12, 0, 0, 0, 0), Usage.Parse("ptxas info    : Used 12 registers, 384 bytes cmem[0]\n    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads"));
        Assert.Throws<FormatException>(() => Usage.Parse("ptxas info    : 0 bytes gmem"));
    }

    /// <summary>GPUINFO_PTXAS, the copy scripts/install-ptxas.sh keeps, or ptxas on the PATH.</summary>
    private static string? Find()
    {
        if (Environment.GetEnvironmentVariable("GPUINFO_PTXAS") is { Length: > 0 } named)
        {
            return named;
        }

        string home = Environment.GetEnvironmentVariable("GPUINFO_PTXAS_DIR")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "gpuinfo", "ptxas");
        string installed = Path.Combine(home, "ptxas");
        if (File.Exists(installed))
        {
            return installed;
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator)
            .Select(d => Path.Combine(d, "ptxas")).FirstOrDefault(File.Exists);
    }

    private static (int Code, string Log) Run(string file, string arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr);
    }

    /// <summary>What ptxas -v reports for one entry function.</summary>
    private sealed partial record Usage(int Registers, int SharedBytes, int SpillStoreBytes, int SpillLoadBytes, int StackBytes)
    {
        public static Usage Parse(string log)
        {
            var registers = UsedRegisters().Match(log);
            if (!registers.Success)
            {
                throw new FormatException($"no 'Used N registers' line in ptxas output: {log}");
            }

            int Bytes(Regex pattern) => pattern.Match(log) is { Success: true } m ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
            return new Usage(int.Parse(registers.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
                Bytes(SharedMemory()), Bytes(SpillStores()), Bytes(SpillLoads()), Bytes(StackFrame()));
        }

        [GeneratedRegex(@"Used (\d+) registers")]
        private static partial Regex UsedRegisters();

        [GeneratedRegex(@"(\d+) bytes smem")]
        private static partial Regex SharedMemory();

        [GeneratedRegex(@"(\d+) bytes spill stores")]
        private static partial Regex SpillStores();

        [GeneratedRegex(@"(\d+) bytes spill loads")]
        private static partial Regex SpillLoads();

        [GeneratedRegex(@"(\d+) bytes stack frame")]
        private static partial Regex StackFrame();
    }
}
