using System.CommandLine;
using GpuInfo.Cli.Output;
using GpuInfo.Corpus;

namespace GpuInfo.Cli;

/// <summary>Options of the verbs that run over a corpus (eval, compare): shard, partials, per-token output, chunk size.</summary>
/// <param name="defaultChunkMb">The chunk size without --chunk-mb; null lets the engines choose (<see cref="InfoEngine.CorpusChunkBytesPerSource"/>).</param>
internal sealed class CorpusOptions(string perTokenDescription, int? defaultChunkMb = null)
{
    public Option<string?> PerToken { get; } = new("--per-token") { Description = perTokenDescription };

    /// <summary>--shard, --shards, --partial and --partial-dir.</summary>
    public ShardOptions Sharding { get; } = new();

    public Option<int?> ChunkMb { get; } = new("--chunk-mb")
    {
        Description = "Rows read per chunk (all inputs together), in MiB (default: "
            + (defaultChunkMb is { } mb ? $"{mb}" : "per input, 4 MiB per thread of the CPU path, 8 to 64 MiB, so that a chunk is still in the caches when it is measured; 64 MiB on an accelerator") + ").",
    };

    public Option<int?> CalibrationBins { get; } = new("--calibration-bins")
    {
        Description = $"Equal-width bins of the top-1 confidence for ece, mce and rmsce, as torchmetrics' n_bins (default {GpuInfo.CalibrationBins.DefaultBins}); a confidence of exactly 1 has a slot of its own, as there.",
    };

    public void AddTo(Command command)
    {
        command.Add(CalibrationBins);
        command.Add(PerToken);
        Sharding.AddTo(command);
        command.Add(ChunkMb);
    }

    /// <summary>The shard asked for, and where it came from (null unless --shard was given).</summary>
    public (Shard Shard, string? From) ParseShard(ParseResult parse) => Sharding.Parse(parse);

    /// <summary>A pipe is read once, from its start: it cannot be split into shards, and a partial could not tell it from another stream.</summary>
    public void CheckPipes(ParseResult parse, Shard shard, params RowSource[] sources)
    {
        if (sources.FirstOrDefault(s => s.IsPipe) is not { } pipe)
        {
            return;
        }

        string? option = shard.Count > 1 ? "--shard" : parse.GetValue(Sharding.Partial) is not null ? "--partial" : parse.GetValue(Sharding.PartialDir) is not null ? "--partial-dir" : null;
        if (option is not null)
        {
            throw CliException.Usage($"{pipe.Name} is a pipe, read once from its start: {option} needs a file.");
        }
    }

    /// <summary>Runs <paramref name="run"/> over <paramref name="source"/>'s shard with a progress bar, per-token file and partial as asked.</summary>
    public CorpusPartial Run(ParseResult parse, RowSource source, long rowBytes, string label, bool quiet, Shard shard, Func<CorpusRunOptions, CorpusPartial> run)
    {
        int? chunk = parse.GetValue(ChunkMb) ?? defaultChunkMb;
        if (chunk < 1)
        {
            throw CliException.Usage($"--chunk-mb must be at least 1, got {chunk}.");
        }

        int bins = parse.GetValue(CalibrationBins) ?? GpuInfo.CalibrationBins.DefaultBins;
        if (bins is < 1 or > GpuInfo.CalibrationBins.MaxBins)
        {
            throw CliException.Usage($"--calibration-bins must be 1 to {GpuInfo.CalibrationBins.MaxBins}, got {bins}.");
        }

        string? partialPath = Sharding.PartialPath(parse, shard);
        var (first, count) = shard.Range(source.Rows);
        using var perToken = PerTokenWriter.Create(parse.GetValue(PerToken), first, count);
        var partial = ProgressBar.Run(!quiet, label, count * rowBytes, progress => run(new CorpusRunOptions
        {
            Shard = shard,
            CalibrationBins = bins,
            ChunkBytes = (long?)chunk << 20,
            Progress = progress,
            PerRow = perToken?.Handler,
        }));
        long scored = partial.Evaluation?.Tokens ?? partial.Comparison?.Tokens ?? 0;
        if (scored == 0 && shard.Count == 1 && partialPath is null)
        {
            // A shard may score nothing and still add to a merge; a whole run that scores nothing has no report.
            throw new Formats.InvalidFileException(source.Name, source.Rows == 0 ? "nothing to score: it has no rows."
                : $"nothing to score: every one of its {source.Rows} rows' targets is the ignore index{(partial.RowsWithoutTarget > 0 ? " or has none (--shift)" : "")}.");
        }

        perToken?.Commit();
        if (partialPath is not null)
        {
            try
            {
                partial.Save(partialPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw CliException.Usage($"{partialPath}: cannot write: {e.Message}");
            }
        }

        return partial;
    }
}
