using System.Globalization;
using System.Runtime.ExceptionServices;
using System.Security.Cryptography;

namespace GpuInfo.Corpus;

/// <summary>
/// Corpus runs: a source (or two), a measure and a shard, streamed chunk by chunk through one or
/// more engines into exact float64 totals. Reading runs one chunk ahead of the compute; with several
/// engines (one per device, <see cref="InfoEngine.CreateEngines"/>) each takes the next chunk when
/// it is free, and their totals merge exactly, so the result is the same bits whatever the device
/// count. A cancelled or failed run returns nothing and saves no partial. Row errors name the source
/// and the global row (<see cref="RowSourceException"/>).
/// </summary>
/// <remarks>
/// With one engine, progress and per-row values are reported on the calling thread in row order;
/// with several, on the engines' threads one call at a time, in the order chunks finish.
/// </remarks>
public static class CorpusRun
{
    /// <summary>Cross-entropy (PyTorch's semantics), perplexity, entropy and top-1 accuracy of a source's rows against its targets.</summary>
    /// <exception cref="ArgumentException">Bad options, or a source without targets.</exception>
    /// <exception cref="RowSourceException">A row the engine refused, or a failed read; names the source and row.</exception>
    /// <exception cref="OperationCanceledException">The run was cancelled.</exception>
    public static CorpusPartial Evaluate(InfoEngine engine, RowSource source, CrossEntropyOptions? options = null,
        CorpusRunOptions? run = null, CancellationToken cancellationToken = default) =>
        Evaluate([engine], source, options, run, cancellationToken);

    /// <inheritdoc cref="Evaluate(InfoEngine, RowSource, CrossEntropyOptions?, CorpusRunOptions?, CancellationToken)"/>
    public static CorpusPartial Evaluate(IReadOnlyList<InfoEngine> engines, RowSource source, CrossEntropyOptions? options = null,
        CorpusRunOptions? run = null, CancellationToken cancellationToken = default)
    {
        CheckEngines(engines);
        CheckSource(source, nameof(source));
        var o = options ?? new CrossEntropyOptions();
        o.Validate(source.Vocab);
        var r = run ?? new CorpusRunOptions();
        r.Validate();
        if (!source.HasTargets)
        {
            throw new ArgumentException($"an evaluation needs targets; {source.Name} has none.", nameof(source));
        }

        var (first, count) = r.Shard.Range(source.Rows);
        var workers = Stream(engines, [source], first, count, r, cancellationToken, rows => new EvaluationWorker(rows, r.CalibrationBins), (engine, w, blocks) =>
        {
            var block = blocks[0];
            int rows = block.Rows;
            var targets = block.Targets;
            for (int i = 0; i < rows; i++)
            {
                bool none = targets[i] == RowSource.NoTarget;
                w.WithoutTarget += none ? 1 : 0;
                w.Targets[i] = none ? o.IgnoreIndex : targets[i];
            }

            if (source.HasTargetBytes)
            {
                w.Totals.AddScoredBytes(Scored(block.TargetBytes, w.Targets, o.IgnoreIndex));
            }

            if (source.HasTargetWords)
            {
                w.Totals.AddScoredWords(Scored(block.TargetWords, w.Targets, o.IgnoreIndex));
            }

            try
            {
                var values = w.Values.AsSpan(0, rows);
                var perRow = r.EvaluationPerRow switch
                {
                    EvaluationValue.Entropy => new EvaluationRows { Entropy = values },
                    EvaluationValue.Confidence => new EvaluationRows { Confidence = values },
                    EvaluationValue.Brier => new EvaluationRows { Brier = values },
                    _ => new EvaluationRows { Loss = values },
                };
                if (r.PerRowArgMax is not null)
                {
                    perRow.ArgMax = w.ArgMax.AsSpan(0, rows);
                }

                engine.Evaluate(block.Logits, w.Targets.AsSpan(0, rows), w.Totals, o, perRow);
            }
            catch (InvalidInputException e) when (e.Row >= 0)
            {
                throw RowSourceException.At(source, block.FirstRow + e.Row, e.ParamName == "targets", e.Problem, e);
            }

            if (r.TopK is { } topK)
            {
                var ranks = w.Ranks.AsSpan(0, rows);
                engine.TargetRanksOfCheckedRows(block.Logits, w.Targets.AsSpan(0, rows), ranks, o.IgnoreIndex);
                foreach (int k in topK)
                {
                    long hits = 0;
                    foreach (int rank in ranks)
                    {
                        hits += rank >= 0 && rank < k ? 1 : 0;
                    }

                    w.Totals.AddTopK(k, hits);
                }
            }

            if (r.PerRow is not null && r.EvaluationPerRow is EvaluationValue.Loss or EvaluationValue.Brier)
            {
                for (int i = 0; i < rows; i++)
                {
                    w.Values[i] = targets[i] == RowSource.NoTarget ? float.NaN : w.Values[i];
                }
            }
        });
        var totals = workers[0].Totals;
        foreach (var w in workers.Skip(1))
        {
            totals.Merge(w.Totals);
        }

        var settings = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["ignore_index"] = Text(o.IgnoreIndex),
            ["label_smoothing"] = Text(o.LabelSmoothing),
            ["temperature"] = Text(o.Temperature),
            ["z_loss"] = Text(o.ZLoss),
            ["top_k"] = r.TopK is { } topKs ? string.Join(",", topKs.Order()) : "none",
            ["calibration_bins"] = Text(r.CalibrationBins),
            ["class_weights"] = o.ClassWeights is { } cw ? "sha256:" + Convert.ToHexStringLower(SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(cw.AsSpan()))) : "none",
        };
        var partial = new CorpusPartial(CorpusMeasure.Evaluation, [source.Describe()], settings, r.Shard, first, count, totals, null, workers.Sum(w => w.WithoutTarget));
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
        long ignoreIndex = -100, CorpusRunOptions? run = null, CancellationToken cancellationToken = default) =>
        Compare([engine], baseSource, testSource, temperature, ignoreIndex, run, cancellationToken);

    /// <inheritdoc cref="Compare(InfoEngine, RowSource, RowSource, float, long, CorpusRunOptions?, CancellationToken)"/>
    public static CorpusPartial Compare(IReadOnlyList<InfoEngine> engines, RowSource baseSource, RowSource testSource, float temperature = 1f,
        long ignoreIndex = -100, CorpusRunOptions? run = null, CancellationToken cancellationToken = default)
    {
        CheckEngines(engines);
        CheckSource(baseSource, nameof(baseSource));
        CheckSource(testSource, nameof(testSource));
        Guard.Temperature(temperature);
        var r = run ?? new CorpusRunOptions();
        r.Validate();
        if (r.PerRowArgMax is not null)
        {
            throw new ArgumentException("PerRowArgMax is an evaluation's (each row's top-1 class against its target); a comparison has no such handler.", nameof(run));
        }

        if (testSource.Rows != baseSource.Rows || testSource.Vocab != baseSource.Vocab)
        {
            throw new RowSourceException(testSource.Name, -1,
                $"{testSource.Rows} rows of vocabulary {testSource.Vocab} differ from the base's {baseSource.Rows} rows of vocabulary {baseSource.Vocab} ({baseSource.Name}).");
        }

        var (first, count) = r.Shard.Range(baseSource.Rows);
        bool targeted = baseSource.HasTargets;
        var workers = Stream(engines, [baseSource, testSource], first, count, r, cancellationToken, rows => new ComparisonWorker(rows, r.CalibrationBins), (engine, w, blocks) =>
        {
            var (p, q) = (blocks[0], blocks[1]);
            int rows = p.Rows;
            if (targeted)
            {
                for (int i = 0; i < rows; i++)
                {
                    w.Targets[i] = p.Targets[i] == RowSource.NoTarget ? ignoreIndex : p.Targets[i];
                }
            }

            try
            {
                var values = w.Values.AsSpan(0, rows);
                var perRow = r.ComparisonPerRow switch
                {
                    ComparisonValue.ReverseKl => new ComparisonRows { ReverseKl = values },
                    ComparisonValue.JensenShannon => new ComparisonRows { JensenShannon = values },
                    ComparisonValue.TotalVariation => new ComparisonRows { TotalVariation = values },
                    _ => new ComparisonRows { Kl = values },
                };
                engine.Compare(p.Logits, q.Logits, w.Totals, targeted ? new Targets(w.Targets.AsSpan(0, rows)) : default, temperature, ignoreIndex, perRow);
            }
            catch (InvalidInputException e) when (e.Row >= 0)
            {
                throw RowSourceException.At(e.ParamName == "testLogits" ? testSource : baseSource, p.FirstRow + e.Row, e.ParamName == "targets", e.Problem, e);
            }

            foreach (int k in r.TopK ?? [])
            {
                var overlap = w.Overlap.AsSpan(0, rows);
                var topOne = w.TopOne.AsSpan(0, rows);
                engine.TopKAgreementOfCheckedRows(p.Logits, q.Logits, k, overlap, topOne);
                for (int i = 0; i < rows; i++)
                {
                    if (!targeted || w.Targets[i] != ignoreIndex)
                    {
                        w.Totals.AddTopK(k, overlap[i], topOne[i]);
                    }
                }
            }
        });
        var totals = workers[0].Totals;
        foreach (var w in workers.Skip(1))
        {
            totals.Merge(w.Totals);
        }

        var settings = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["temperature"] = Text(temperature),
            ["ignore_index"] = Text(ignoreIndex),
            ["top_k"] = r.TopK is { } topKs ? string.Join(",", topKs.Order()) : "none",
            ["calibration_bins"] = Text(r.CalibrationBins),
        };
        var partial = new CorpusPartial(CorpusMeasure.Comparison, [baseSource.Describe(), testSource.Describe()], settings, r.Shard, first, count, null, totals, 0);
        Finish(partial, r);
        return partial;
    }

    /// <summary>
    /// Streams the shard's chunks through the engines: one worker per engine (the calling thread when
    /// there is one), each with its own state, taking chunks as it frees up.
    /// </summary>
    private static TWorker[] Stream<TWorker>(IReadOnlyList<InfoEngine> engines, RowSource[] sources, long first, long count,
        CorpusRunOptions run, CancellationToken cancellationToken, Func<int, TWorker> create, Action<InfoEngine, TWorker, RowBlock[]> process)
        where TWorker : Worker
    {
        long chunkBytes = run.ChunkBytes ?? sources.Length * engines.Max(e => e.CorpusChunkBytesPerSource);
        using var pipeline = new ChunkPipeline(sources, first, count, chunkBytes, engines.Count, cancellationToken);
        var workers = Enumerable.Range(0, engines.Count).Select(_ => create(pipeline.ChunkRows)).ToArray();
        long rowBytes = sources.Sum(s => s.RowBytes), done = 0;
        var gate = new Lock();

        void Work(int index)
        {
            while (pipeline.Take() is { } blocks)
            {
                try
                {
                    process(engines[index], workers[index], blocks);
                    lock (gate)
                    {
                        run.PerRow?.Invoke(blocks[0].FirstRow, workers[index].Values.AsSpan(0, blocks[0].Rows));
                        run.PerRowArgMax?.Invoke(blocks[0].FirstRow, workers[index].ArgMax.AsSpan(0, blocks[0].Rows));
                        done += blocks[0].Rows;
                        run.Progress?.Report(new CorpusProgress(done, done * rowBytes, count, count * rowBytes));
                    }
                }
                finally
                {
                    pipeline.Return(blocks);
                }
            }
        }

        if (engines.Count == 1)
        {
            Work(0);
            return workers;
        }

        var tasks = Enumerable.Range(0, engines.Count).Select(i => Task.Factory.StartNew(() =>
        {
            try
            {
                Work(i);
            }
            catch
            {
                pipeline.Stop();
                throw;
            }
        }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default)).ToArray();
        try
        {
            Task.WaitAll(tasks);
        }
        catch (AggregateException e)
        {
            var errors = e.Flatten().InnerExceptions;
            ExceptionDispatchInfo.Throw(errors.FirstOrDefault(x => x is not OperationCanceledException) ?? errors[0]);
        }

        return workers;
    }

    private static void CheckEngines(IReadOnlyList<InfoEngine> engines)
    {
        ArgumentNullException.ThrowIfNull(engines);
        if (engines.Count == 0 || engines.Any(e => e is null))
        {
            throw new ArgumentException("give at least one engine, and no nulls.", nameof(engines));
        }
    }

    /// <summary>A source, possibly a caller's own subclass, must describe its rows with defined enums.</summary>
    private static void CheckSource(RowSource source, string name)
    {
        ArgumentNullException.ThrowIfNull(source, name);
        if (!Enum.IsDefined(source.Type) || !Enum.IsDefined(source.Values) || source.Rows < 0 || source.Vocab < 1)
        {
            throw new ArgumentException($"{source.Name} reports {source.Rows} rows of vocabulary {source.Vocab}, type {source.Type}, values {source.Values}: not a valid source.", name);
        }
    }

    private static void Finish(CorpusPartial partial, CorpusRunOptions run)
    {
        if (run.PartialPath is { } path)
        {
            partial.Save(path);
        }
    }

    /// <summary>The sum of a per-row count (bytes, words of text) over the rows whose target is scored.</summary>
    private static long Scored(ReadOnlySpan<long> counts, long[] targets, long ignoreIndex)
    {
        long scored = 0;
        for (int i = 0; i < counts.Length; i++)
        {
            scored = checked(scored + (targets[i] == ignoreIndex ? 0 : counts[i]));
        }

        return scored;
    }

    private static string Text(float v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static string Text(long v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>One engine's scratch space: per-row values of the chunk in hand and the targets it passes on.</summary>
    private abstract class Worker(int rows)
    {
        public float[] Values { get; } = new float[rows];

        public long[] Targets { get; } = new long[rows];

        /// <summary>Each row's top-1 class, where an evaluation is asked for it (<see cref="CorpusRunOptions.PerRowArgMax"/>).</summary>
        public int[] ArgMax { get; } = new int[rows];
    }

    private sealed class EvaluationWorker(int rows, int calibrationBins) : Worker(rows)
    {
        public PerplexityAccumulator Totals { get; } = new(calibrationBins);

        public int[] Ranks { get; } = new int[rows];

        public long WithoutTarget { get; set; }
    }

    private sealed class ComparisonWorker(int rows, int calibrationBins) : Worker(rows)
    {
        public ComparisonAccumulator Totals { get; } = new(calibrationBins);

        public float[] Overlap { get; } = new float[rows];

        public bool[] TopOne { get; } = new bool[rows];
    }
}
