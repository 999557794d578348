using System.CommandLine;
using GpuInfo.Cli.Output;
using GpuInfo.Corpus;

namespace GpuInfo.Cli;

/// <summary>How a verb's run is split over an array of jobs: --shard (and --shards), and where its mergeable partial goes (--partial, --partial-dir; 'gpuinfo merge').</summary>
internal sealed class ShardOptions
{
    public Option<string?> Shard { get; } = new("--shard")
    {
        Description = "Run one contiguous share of the rows (of the documents, for loglikelihood): i/n (i from 0), or auto (from SLURM_ARRAY_TASK_*, SLURM_PROCID/SLURM_NTASKS, JOB_COMPLETION_INDEX with --shards, or RANK/WORLD_SIZE).",
    };

    public Option<int?> Shards { get; } = new("--shards") { Description = "With --shard auto: the shard count (required under Kubernetes, which sets none; else checked against the scheduler's)." };

    public Option<string?> Partial { get; } = new("--partial") { Description = "Write the run's mergeable partial to this JSON file (see 'gpuinfo merge'), atomically, once the run completes." };

    public Option<string?> PartialDir { get; } = new("--partial-dir") { Description = "Write the run's mergeable partial to DIR/part-<i>-of-<n>.json (created if needed), atomically; 'gpuinfo merge DIR' merges them." };

    public void AddTo(Command command)
    {
        command.Add(Shard);
        command.Add(Shards);
        command.Add(Partial);
        command.Add(PartialDir);
    }

    /// <summary>The shard asked for, and where it came from (null unless --shard was given).</summary>
    public (Shard Shard, string? From) Parse(ParseResult parse)
    {
        string? text = parse.GetValue(Shard);
        int? shards = parse.GetValue(Shards);
        if (shards is < 1)
        {
            throw CliException.Usage($"--shards must be at least 1, got {shards}.");
        }

        if (text == "auto")
        {
            return SchedulerShard.TryResolve(null, shards, out var found, out string why) ? (found, why) : throw CliException.Usage(why + ".");
        }

        if (shards is not null)
        {
            throw CliException.Usage("--shards applies with --shard auto only.");
        }

        return string.IsNullOrEmpty(text) ? (Corpus.Shard.All, null)
            : Corpus.Shard.TryParse(text, out var parsed) ? (parsed, $"--shard {text}")
            : throw CliException.Usage($"--shard must be i/n with 0 <= i < n, or auto; got '{text}'.");
    }

    /// <summary>The partial's path (--partial, or --partial-dir's part-i-of-n.json, the folder created), checked before the run: a missing folder must not cost the run; null for none.</summary>
    public string? PartialPath(ParseResult parse, Shard shard)
    {
        string? partialPath = parse.GetValue(Partial);
        if (parse.GetValue(PartialDir) is { } dir)
        {
            if (partialPath is not null)
            {
                throw CliException.Usage("give --partial or --partial-dir, not both.");
            }

            partialPath = Path.Combine(dir, $"part-{shard.Index}-of-{shard.Count}.json");
            if (OutputFile.FileInTheWay(dir) is { } file)
            {
                throw CliException.Usage($"{dir}: cannot create the partials folder: {file} is a file, not a folder.");
            }

            try
            {
                Directory.CreateDirectory(dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw CliException.Usage($"{dir}: cannot create the partials folder: {e.Message}");
            }
        }


        OutputFile.Check(partialPath);
        return partialPath;
    }
}
