using System.CommandLine;
using GpuInfo.Cli.Output;
using GpuInfo.Corpus;

namespace GpuInfo.Cli;

/// <summary>Options of the verbs that run over a corpus (eval, compare): shard, partial, per-token output, chunk size.</summary>
internal sealed class CorpusOptions(string perTokenDescription, int defaultChunkMb)
{
    public Option<string?> PerToken { get; } = new("--per-token") { Description = perTokenDescription };

    public Option<string?> Shard { get; } = new("--shard") { Description = "Run one contiguous share of rows, i/n (i from 0)." };

    public Option<string?> Partial { get; } = new("--partial") { Description = "Write mergeable totals to this JSON file (see 'gpuinfo merge'), atomically, once the run completes." };

    public Option<int> ChunkMb { get; } = new("--chunk-mb") { Description = "Rows read per chunk (all inputs together), in MiB.", DefaultValueFactory = _ => defaultChunkMb };

    public void AddTo(Command command)
    {
        command.Add(PerToken);
        command.Add(Shard);
        command.Add(Partial);
        command.Add(ChunkMb);
    }

    /// <summary>Runs <paramref name="run"/> over <paramref name="source"/>'s shard with a progress bar, per-token file and partial as asked.</summary>
    public CorpusPartial Run(ParseResult parse, RowSource source, long rowBytes, string label, bool quiet, Func<CorpusRunOptions, CorpusPartial> run)
    {
        string? text = parse.GetValue(Shard);
        var shard = string.IsNullOrEmpty(text) ? Corpus.Shard.All
            : Corpus.Shard.TryParse(text, out var parsed) ? parsed : throw CliException.Usage($"--shard must be i/n with 0 <= i < n, got '{text}'.");
        int chunk = parse.GetValue(ChunkMb);
        if (chunk < 1)
        {
            throw CliException.Usage($"--chunk-mb must be at least 1, got {chunk}.");
        }

        var (_, count) = shard.Range(source.Rows);
        using var perToken = PerTokenWriter.Create(parse.GetValue(PerToken), count);
        var partial = ProgressBar.Run(!quiet, label, count * rowBytes, progress => run(new CorpusRunOptions
        {
            Shard = shard,
            ChunkBytes = (long)chunk << 20,
            Progress = progress,
            PerRow = perToken?.Handler,
        }));
        if (parse.GetValue(Partial) is { } path)
        {
            try
            {
                partial.Save(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw CliException.Usage($"{path}: cannot write: {e.Message}");
            }
        }

        return partial;
    }
}
