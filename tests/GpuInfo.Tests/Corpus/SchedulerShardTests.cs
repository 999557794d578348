using GpuInfo.Corpus;

namespace GpuInfo.Tests.Corpus;

/// <summary>--shard auto: the slice a scheduler's variables give, and a clear refusal when they give none or disagree.</summary>
public sealed class SchedulerShardTests
{
    public static TheoryData<string, int?, int, int> Resolved => new()
    {
        { "SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=3 SLURM_ARRAY_TASK_COUNT=4 SLURM_PROCID=0 SLURM_NTASKS=1", null, 2, 4 },
        { "SLURM_ARRAY_TASK_ID=7 SLURM_ARRAY_TASK_MIN=5 SLURM_ARRAY_TASK_MAX=9", null, 2, 5 },
        { "SLURM_ARRAY_TASK_ID=9 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=9 SLURM_ARRAY_TASK_STEP=4", null, 2, 3 },
        { "SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_COUNT=4", 4, 3, 4 },
        { "SLURM_PROCID=1 SLURM_NTASKS=8", null, 1, 8 },
        { "JOB_COMPLETION_INDEX=5", 6, 5, 6 },
        { "RANK=3 WORLD_SIZE=4", null, 3, 4 },
    };

    public static TheoryData<string, int?, string> Refused => new()
    {
        { "HOME=/root", null, "no scheduler variables" },
        { "JOB_COMPLETION_INDEX=5", null, "--shards" },
        { "JOB_COMPLETION_INDEX=6", 6, "not a shard" },
        { "SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=3", 5, "disagrees" },
        { "SLURM_ARRAY_TASK_ID=3 SLURM_ARRAY_TASK_MIN=1 SLURM_ARRAY_TASK_MAX=7 SLURM_ARRAY_TASK_COUNT=3", null, "irregular" },
        { "SLURM_ARRAY_TASK_ID=1", null, "size is unknown" },
        { "SLURM_ARRAY_TASK_ID=1 SLURM_ARRAY_TASK_COUNT=2 SLURM_NTASKS=4", null, "both set" },
        { "SLURM_PROCID=x SLURM_NTASKS=2", null, "SLURM_PROCID='x' is not an integer" },
        { "RANK=1", null, "WORLD_SIZE is not set" },
    };

    [Theory]
    [MemberData(nameof(Resolved))]
    public void Scheduler_variables_give_the_shard(string variables, int? shards, int index, int count)
    {
        Assert.True(SchedulerShard.TryResolve(Env(variables), shards, out var shard, out string why), why);
        Assert.Equal(new Shard(index, count), shard);
        Assert.Contains(variables.Split(' ')[0].Split('=')[0], why, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void Missing_malformed_or_disagreeing_variables_are_refused(string variables, int? shards, string fragment)
    {
        Assert.False(SchedulerShard.TryResolve(Env(variables), shards, out _, out string why));
        Assert.Contains(fragment, why, StringComparison.Ordinal);
    }

    [Fact]
    public void Auto_picks_the_same_rows_as_the_matching_explicit_shard()
    {
        for (int id = 0; id < 4; id++)
        {
            Assert.True(SchedulerShard.TryResolve(Env($"SLURM_ARRAY_TASK_ID={id} SLURM_ARRAY_TASK_MIN=0 SLURM_ARRAY_TASK_MAX=3"), null, out var slurm, out _));
            Assert.True(SchedulerShard.TryResolve(Env($"JOB_COMPLETION_INDEX={id}"), 4, out var kubernetes, out _));
            Assert.True(Shard.TryParse($"{id}/4", out var given));
            Assert.Equal(given.Range(1001), slurm.Range(1001));
            Assert.Equal(given.Range(1001), kubernetes.Range(1001));
        }
    }

    private static Dictionary<string, string> Env(string variables) =>
        variables.Split(' ').Select(v => v.Split('=')).ToDictionary(kv => kv[0], kv => kv[1]);
}
