using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;

namespace GpuInfo.Models;

/// <summary>
/// Encodes a stream of documents on several cores, each worker with a tokenizer of its own (or, where it
/// <see cref="TextTokenizer.SharesAcrossThreads"/>, all with one), and gives them back in order. Microsoft.ML's
/// tokenizers lock their caches, so one tokenizer shared by two threads encodes no faster than one thread; two
/// tokenizers, one each, encoded 40 MB 1.6-1.8 times as fast as one on a 2-core machine (the server GC: each token is a string, and the workstation GC's
/// pauses stop both threads). The documents are
/// read a batch ahead (on a thread of their own) while a batch is encoded, and the batch before is given to the
/// caller meanwhile, so a corpus of any size streams through: only its ids are kept.
/// </summary>
public sealed class DocumentEncoder
{
    /// <summary>Characters of text gathered before a batch is encoded (16 Mi; tests take fewer, to run several batches).</summary>
    internal int BatchChars { get; init; } = 16 << 20;

    /// <summary>A batch smaller than this is encoded on the calling thread: another tokenizer would take longer to load than it saves.</summary>
    internal const int ParallelChars = 1 << 20;

    /// <summary>
    /// Workers by default at most. One thread reads the documents, at 143-193 MB/s of a plain .jsonl's
    /// text (100-112 from .gz, 170-230 from .zst) on a 2-core EPYC, and a worker encodes 6-8 MB/s with
    /// gpt2: beyond about 16 workers the reader bounds the rate, and each worker loads a tokenizer of
    /// its own where it cannot share one (7-18 MB and 0.2-1.9 s each for gpt2, Llama 3 and Qwen 2.5; Gemma's,
    /// a SentencePiece BPE, is shared).
    /// </summary>
    public const int DefaultMaxThreads = 16;

    private readonly TextTokenizer _first;
    private readonly Func<TextTokenizer> _another;
    private readonly ConcurrentBag<TextTokenizer> _idle = [];
    private int _firstRented;

    /// <param name="tokenizer">The tokenizer the calling thread encodes with.</param>
    /// <param name="another">Makes an equal tokenizer for another worker (loads it again).</param>
    /// <param name="threads">Workers at most (default: the cores the process may use, at most <see cref="DefaultMaxThreads"/>).</param>
    public DocumentEncoder(TextTokenizer tokenizer, Func<TextTokenizer> another, int? threads = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(another);
        if (threads is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(threads), threads, "must be 1 or more.");
        }

        _first = tokenizer;
        _another = another;
        Threads = threads ?? Math.Min(Environment.ProcessorCount, DefaultMaxThreads);
    }

    public int Threads { get; }

    /// <summary>Tokenizers made for other workers so far (none where the tokenizer <see cref="TextTokenizer.SharesAcrossThreads"/>: every worker uses it).</summary>
    public int TokenizersMade { get; private set; }

    /// <summary>Workers but the first that have a tokenizer, made or shared.</summary>
    private int _prepared;

    /// <summary>Each document's ids (<see cref="TextTokenizer.Encode"/>), in the order given; the first document that fails, in that order, throws.</summary>
    /// <param name="rewrite">Where given, each document is encoded as this makes it (on the workers), its bytes and words counted as given (<see cref="TextTokenizer.Encode"/>'s countsOf).</param>
    public IEnumerable<TokenizedText> Encode(IEnumerable<(string Name, string Content)> documents, bool lmEvalWords = false, Func<string, string>? rewrite = null)
    {
        ArgumentNullException.ThrowIfNull(documents);
        using var batches = new BlockingCollection<List<(string Name, string Content)>>(boundedCapacity: 1);
        using var stop = new CancellationTokenSource();
        ExceptionDispatchInfo? readFailure = null;
        var reader = Task.Run(() =>
        {
            var batch = new List<(string, string)>();
            try
            {
                long chars = 0;
                foreach (var document in documents)
                {
                    stop.Token.ThrowIfCancellationRequested();
                    batch.Add(document);
                    chars += document.Content.Length;
                    if (chars >= BatchChars)
                    {
                        batches.Add(batch, stop.Token);
                        (batch, chars) = ([], 0);
                    }
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The documents before the one that failed are encoded first: one of them may fail before it.
                readFailure = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                try
                {
                    if (batch.Count > 0)
                    {
                        batches.Add(batch, stop.Token);
                    }
                }
                catch (OperationCanceledException)
                {
                }
                finally
                {
                    batches.CompleteAdding();
                }
            }
        });

        // The next batch is encoded while the caller takes the last one's documents (copies them, writes them), so that
        // on many cores the workers do not wait for it: one batch encoding at a time, one waiting to be taken.
        Task<TokenizedText[]>? encoding = null;
        try
        {
            foreach (var batch in batches.GetConsumingEnumerable())
            {
                var encoded = encoding?.GetAwaiter().GetResult();
                encoding = Task.Run(() => EncodeBatch(batch, lmEvalWords, rewrite));
                foreach (var document in encoded ?? [])
                {
                    yield return document;
                }
            }

            if (encoding is not null)
            {
                foreach (var document in encoding.GetAwaiter().GetResult())
                {
                    yield return document;
                }
            }

            reader.Wait();
            readFailure?.Throw();
        }
        finally
        {
            // A consumer that stops early (or an encoding that fails) stops the reader, which may wait on a full queue,
            // and waits for the batch being encoded, whose workers use the tokenizers.
            stop.Cancel();
            try
            {
                reader.Wait();
            }
            catch (AggregateException e) when (e.InnerExceptions.All(i => i is OperationCanceledException))
            {
            }

            try
            {
                encoding?.Wait();
            }
            catch (AggregateException)
            {
                // Its failure comes after the one being thrown (or the consumer stopped): not this caller's.
            }
        }
    }

    private TokenizedText[] EncodeBatch(List<(string Name, string Content)> batch, bool lmEvalWords, Func<string, string>? rewrite)
    {
        var results = new TokenizedText[batch.Count];
        long chars = batch.Sum(d => (long)d.Content.Length);
        if (Threads == 1 || chars < ParallelChars)
        {
            for (int i = 0; i < batch.Count; i++)
            {
                results[i] = EncodeOne(_first, batch[i], lmEvalWords, rewrite, null);
            }

            return results;
        }

        // Documents of several pieces are each encoded a piece per worker; the others a document per worker.
        var failures = new ExceptionDispatchInfo?[batch.Count];
        bool Large(int i) => batch[i].Content.Length >= 2L * _first.PieceChars;
        int[] small = [.. Enumerable.Range(0, batch.Count).Where(i => !Large(i))];
        if (small.Length > 0)
        {
            ForEach(small.Length, (tokenizer, k) => Encode(tokenizer, small[k], null));
        }

        for (int i = 0; i < batch.Count; i++)
        {
            if (Large(i))
            {
                Encode(_first, i, ForEach);
            }
        }

        Array.Find(failures, f => f is not null)?.Throw();
        return results;

        void Encode(TextTokenizer tokenizer, int i, TextTokenizer.ForEachPiece? pieces)
        {
            try
            {
                results[i] = EncodeOne(tokenizer, batch[i], lmEvalWords, rewrite, pieces);
            }
            catch (Exception e)
            {
                failures[i] = ExceptionDispatchInfo.Capture(e);
            }
        }
    }

    private static TokenizedText EncodeOne(TextTokenizer tokenizer, (string Name, string Content) document, bool lmEvalWords, Func<string, string>? rewrite, TextTokenizer.ForEachPiece? pieces) =>
        rewrite is null
            ? tokenizer.EncodeOnWorkers(document.Content, document.Name, lmEvalWords, pieces)
            : tokenizer.EncodeOnWorkers(rewrite(document.Content), document.Name, lmEvalWords, pieces, countsOf: document.Content);

    /// <summary>Runs <paramref name="work"/> for [0, count) on up to <see cref="Threads"/> workers, each with a tokenizer of its own.</summary>
    /// <exception cref="Exception">Making another tokenizer failed (its file gone since it was first read): that exception, as thrown.</exception>
    private void ForEach(int count, Action<TextTokenizer, int> work)
    {
        int workers = Math.Min(Threads, count);
        Prepare(workers);
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = workers }, Rent, (i, _, tokenizer) =>
        {
            work(tokenizer, i);
            return tokenizer;
        }, _idle.Add);
    }

    /// <summary>
    /// Makes the tokenizers <paramref name="workers"/> need before they start, in parallel, so that each
    /// worker finds one however the loop schedules them (a worker that starts after the others took
    /// every item never asks), and a failure to make one is thrown here, as itself.
    /// </summary>
    private void Prepare(int workers)
    {
        int missing = workers - 1 - _prepared;
        if (missing <= 0)
        {
            return;
        }

        if (_first.SharesAcrossThreads)
        {
            // Gemma 3's tokenizer.json took 3-4 s and its own memory to load again, once per worker.
            for (int i = 0; i < missing; i++)
            {
                _idle.Add(_first);
            }

            _prepared += missing;
            return;
        }

        var made = new TextTokenizer[missing];
        try
        {
            Parallel.For(0, missing, i => made[i] = _another());
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            ExceptionDispatchInfo.Throw(e.InnerExceptions[0]);
        }

        foreach (var tokenizer in made)
        {
            _idle.Add(tokenizer);
        }

        TokenizersMade += missing;
        _prepared += missing;
    }

    /// <summary>A prepared tokenizer; the first is the caller's own.</summary>
    private TextTokenizer Rent()
    {
        if (_idle.TryTake(out var tokenizer))
        {
            return tokenizer;
        }

        if (Interlocked.CompareExchange(ref _firstRented, 1, 0) == 0)
        {
            return _first;
        }

        // Not expected (Prepare made one per worker); made here rather than failing the run.
        if (_first.SharesAcrossThreads)
        {
            return _first;
        }

        var made = _another();
        lock (_idle)
        {
            TokenizersMade++;
        }

        return made;
    }
}
