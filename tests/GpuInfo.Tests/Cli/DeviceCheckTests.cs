using System.Diagnostics;

namespace GpuInfo.Tests.Cli;

/// <summary>benchmarks/device/check.sh (issue 13): its dry run works without a GPU and prints the whole plan.</summary>
public sealed class DeviceCheckTests
{
    [Fact]
    public void Dry_run_prints_the_plan_without_a_gpu()
    {
        string script = Path.Combine(RepositoryRoot(), "benchmarks", "device", "check.sh");
        var start = new ProcessStartInfo("bash", [script, "--dry-run"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start)!;
        string stdout = process.StandardOutput.ReadToEnd(), stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, stderr);
        foreach (string step in new[]
        {
            "gpuinfo devices", "-failSkips",
            "bench --device cuda --rows 4096 --vocab 128256 --dtype f32", "bench --device cuda --rows 4096 --vocab 128256 --dtype bf16",
            "bench --device cuda --rows 64 --vocab 256000 --dtype f32", "bench --device cuda --rows 64 --vocab 256000 --dtype bf16",
            "--compile --ops cross-entropy,entropy,kl",
            "ib_torch_peer.py --device cuda --rows 16384 --vocab 50257 --clusters 256", "--budget 540", "ib --logits IB.npy", "--device cuda --json  (seconds_per_iteration)", "summary.md",
        })
        {
            Assert.Contains(step, stdout, StringComparison.Ordinal);
        }

        var bad = Process.Start(new ProcessStartInfo("bash", [script, "--frobnicate"]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        bad.WaitForExit();
        Assert.Equal(2, bad.ExitCode);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "GpuInfo.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"no GpuInfo.sln above {AppContext.BaseDirectory}");
    }
}
