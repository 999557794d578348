using System.Diagnostics;
using System.Text.Json.Nodes;
using GpuInfo.Tests.Cli;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Corpus;

/// <summary>
/// A real scheduler: a single-node Slurm cluster on this host (tests/slurm/start-cluster.sh) runs
/// `sbatch --array=0-3` of `gpuinfo eval --shard auto --partial-dir D`; the merged partials must equal
/// one whole run exactly. Skipped, with the reason, where Slurm and munge are not installed or will
/// not start (.ci/run installs them where it can).
/// </summary>
public sealed class SlurmArrayTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose()
    {
        Script("stop-cluster.sh", _dir.File("cluster"));
        _dir.Dispose();
    }

    [Fact]
    public void A_job_array_merged_equals_one_run()
    {
        var (code, output) = Script("start-cluster.sh", _dir.File("cluster"));
        Assert.SkipWhen(code != 0, $"no Slurm cluster: {output.Trim()}");
        string conf = output.Trim();

        var data = new Reference.TestData();
        const int sequences = 3, positions = 70, vocab = 523;
        string logits = _dir.File("logits.npy"), targets = _dir.File("targets.npy"), parts = _dir.File("parts");
        GpuInfo.Formats.NpyFormat.Write(logits, data.Logits(sequences * positions, vocab).AsSpan(), [sequences, positions, vocab]);
        GpuInfo.Formats.NpyFormat.Write(targets, data.Targets(sequences * positions, vocab, 0.1).Select(v => (long)v).ToArray().AsSpan(), [sequences, positions]);
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        string cli = Path.Combine(AppContext.BaseDirectory, "GpuInfo.Cli.dll");
        string job = _dir.File("job.sh");
        File.WriteAllText(job, $"""
            #!/bin/bash
            exec "{dotnet}" "{cli}" eval --logits "{logits}" --targets "{targets}" --shift --shard auto --partial-dir "{parts}" --device cpu --json
            """.ReplaceLineEndings("\n"));
        var (submitted, log) = Run("sbatch", ["--array=0-3", "--wait", "--chdir", _dir.Path, "--output", _dir.File("task-%a.out"), job], conf, TimeSpan.FromMinutes(5));
        Assert.True(submitted == 0, $"sbatch failed: {log}\n{Tasks()}");

        var tasks = Enumerable.Range(0, 4).Select(i => (JsonObject)JsonNode.Parse(File.ReadAllText(_dir.File($"task-{i}.out")))!).ToList();
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal($"{i}/4", tasks[i]["shard"]!.GetValue<string>());
            Assert.Contains("SLURM_ARRAY_TASK_ID", tasks[i]["shard_from"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        var merged = CliRunner.Json("merge", parts);
        var whole = CliRunner.Json("eval", "--logits", logits, "--targets", targets, "--shift", "--device", "cpu");
        Assert.Equal(4, merged["partials"]!.GetValue<int>());
        foreach (var key in new[] { "tokens", "ignored", "mean_nll", "perplexity", "bits_per_token", "mean_entropy", "top1_accuracy" })
        {
            Assert.Equal(whole[key]!.ToJsonString(), merged[key]!.ToJsonString());
        }
    }

    private string Tasks() => string.Join("\n", Directory.GetFiles(_dir.Path, "task-*.out").Select(f => $"{f}: {File.ReadAllText(f)}"));

    private static (int Code, string Output) Script(string name, string dir) =>
        Run("bash", [Path.Combine(AppContext.BaseDirectory, "slurm", name), dir], null, TimeSpan.FromMinutes(1));

    private static (int Code, string Output) Run(string file, string[] args, string? slurmConf, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        if (slurmConf is not null)
        {
            start.Environment["SLURM_CONF"] = slurmConf;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"{file} timed out after {timeout}");
        }

        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
