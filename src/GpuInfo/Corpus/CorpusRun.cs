using System.Globalization;
using System.Security.Cryptography;

namespace GpuInfo.Corpus;

/// <summary>
/// Corpus runs: a source (or two), a measure and a shard, streamed chunk by chunk through an engine
/// into exact float64 totals. Reading runs one chunk ahead of the compute; progress and per-row
/// values are reported on the calling thread; a cancelled or failed run returns nothing and saves
/// no partial. Row errors name the source and the global row (<see cref="RowSourceException"/>).
/// </summary>
public static class CorpusRun
{
    /// <summary>Cross-entropy (PyTorch's semantics), perplexity, entropy and top-1 accuracy of a source's rows against its targets.</summary>
    /// <exception cref="ArgumentException">Bad options, or a source without targets.</exception>
    /// <exception cref="RowSourceException">A row the engine refused, or a failed read; names the source and row.</exception>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public static CorpusPartial Evaluate(InfoEngine engine, RowSource source, CrossEntropyOptions? options = null,
        CorpusRunOptions? run = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(source);
        var o = options ?? new CrossEntropyOptions();
        o.Validate(source.Vocab);
        var r = run ?? new CorpusRunOptions();
        r.Validate();
        if (!source.HasTargets)
        {
            throw new ArgumentException($"an evaluation needs targets; {source.Name} has none.", nameof(source));
        }

        var (first, count) = r.Shard.Range(source.Rows);
        var totals = new PerplexityAccumulator();
        long withoutTarget = 0;
        using (var pipeline = new ChunkPipeline([source], first, count, r.ChunkBytes, cancellationToken))
        {
            var loss = new float[pipeline.ChunkRows];
            var y = new long[pipeline.ChunkRows];
            var progress = new ProgressCounter(r.Progress, count, source.RowBytes);
            while (pipeline.Next() is [var block])
            {
                int rows = block.Rows;
                var targets = block.Targets;
                for (int i = 0; i < rows; i++)
                {
                    bool none = targets[i] == RowSource.NoTarget;
                    withoutTarget += none ? 1 : 0;
                    y[i] = none ? o.IgnoreIndex : targets[i];
                }

                try
                {
                    engine.Evaluate(block.Logits, y.AsSpan(0, rows), totals, o, new EvaluationRows { Loss = loss.AsSpan(0, rows) });
                }
                catch (InvalidInputException e) when (e.Row >= 0)
                {
                    throw new RowSourceException(e.ParamName == "targets" ? source.TargetsName : source.Name, block.FirstRow + e.Row, e.Problem, e);
                }

                if (r.PerRow is { } perRow)
                {
                    for (int i = 0; i < rows; i++)
                    {
                        loss[i] = targets[i] == RowSource.NoTarget ? float.NaN : loss[i];
                    }

                    perRow(block.FirstRow, loss.AsSpan(0, rows));
                }

                progress.Advance(rows);
            }
        }

        var options2 = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["ignore_index"] = Text(o.IgnoreIndex),
            ["label_smoothing"] = Text(o.LabelSmoothing),
            ["temperature"] = Text(o.Temperature),
            ["z_loss"] = Text(o.ZLoss),
            ["class_weights"] = o.ClassWeights is { } w ? "sha256:" + Convert.ToHexStringLower(SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(w.AsSpan()))) : "none",
        };
        var partial = new CorpusPartial(CorpusMeasure.Evaluation, [source.Describe()], options2, r.Shard, first, count, totals, null, withoutTarget);
        Finish(partial, r);
        return partial;
    }

    /// <summary>
    /// A test model's rows against a base model's, row by row: KL(base||test) with percentiles, JS, top-1
    /// agreement and, when the base source has targets, both models' NLL and the change in p(target).
    /// Rows whose target equals <paramref name="ignoreIndex"/> (or that have none) are left out.
    /// </summary>
    /// <exception cref="ArgumentException">A bad temperature.</exception>
    /// <exception cref="RowSourceException">The sources differ in rows or vocabulary, a row was refused, or a read failed.</exception>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public static CorpusPartial Compare(InfoEngine engine, RowSource baseSource, RowSource testSource, float temperature = 1f,
        long ignoreIndex = -100, CorpusRunOptions? run = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(baseSource);
        ArgumentNullException.ThrowIfNull(testSource);
        Guard.Temperature(temperature);
        var r = run ?? new CorpusRunOptions();
        r.Validate();
        if (testSource.Rows != baseSource.Rows || testSource.Vocab != baseSource.Vocab)
        {
            throw new RowSourceException(testSource.Name, -1,
                $"{testSource.Rows} rows of vocabulary {testSource.Vocab} differ from the base's {baseSource.Rows} rows of vocabulary {baseSource.Vocab} ({baseSource.Name}).");
        }

        var (first, count) = r.Shard.Range(baseSource.Rows);
        var totals = new ComparisonAccumulator();
        bool targeted = baseSource.HasTargets;
        using (var pipeline = new ChunkPipeline([baseSource, testSource], first, count, r.ChunkBytes, cancellationToken))
        {
            var kl = new float[pipeline.ChunkRows];
            var y = targeted ? new long[pipeline.ChunkRows] : [];
            var progress = new ProgressCounter(r.Progress, count, baseSource.RowBytes + testSource.RowBytes);
            while (pipeline.Next() is [var p, var q])
            {
                int rows = p.Rows;
                for (int i = 0; i < y.Length && i < rows; i++)
                {
                    y[i] = p.Targets[i] == RowSource.NoTarget ? ignoreIndex : p.Targets[i];
                }

                try
                {
                    engine.Compare(p.Logits, q.Logits, totals, targeted ? new Targets(y.AsSpan(0, rows)) : default, temperature, ignoreIndex,
                        new ComparisonRows { Kl = kl.AsSpan(0, rows) });
                }
                catch (InvalidInputException e) when (e.Row >= 0)
                {
                    string name = e.ParamName switch { "q" => testSource.Name, "targets" => baseSource.TargetsName, _ => baseSource.Name };
                    throw new RowSourceException(name, p.FirstRow + e.Row, e.Problem, e);
                }

                r.PerRow?.Invoke(p.FirstRow, kl.AsSpan(0, rows));
                progress.Advance(rows);
            }
        }

        var options = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["temperature"] = Text(temperature),
            ["ignore_index"] = Text(ignoreIndex),
        };
        var partial = new CorpusPartial(CorpusMeasure.Comparison, [baseSource.Describe(), testSource.Describe()], options, r.Shard, first, count, null, totals, 0);
        Finish(partial, r);
        return partial;
    }

    private static void Finish(CorpusPartial partial, CorpusRunOptions run)
    {
        if (run.PartialPath is { } path)
        {
            partial.Save(path);
        }
    }

    private static string Text(float v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string Text(long v) => v.ToString(CultureInfo.InvariantCulture);

    private sealed class ProgressCounter(IProgress<CorpusProgress>? sink, long totalRows, long rowBytes)
    {
        private long _rows;

        public void Advance(int rows)
        {
            _rows += rows;
            sink?.Report(new CorpusProgress(_rows, _rows * rowBytes, totalRows, totalRows * rowBytes));
        }
    }
}
