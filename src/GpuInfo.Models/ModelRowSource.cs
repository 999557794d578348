using System.Runtime.InteropServices;
using System.Security.Cryptography;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using Microsoft.ML.OnnxRuntime;

namespace GpuInfo.Models;

/// <summary>
/// The rows a causal LM predicts over a text: the model runs over windows of the token ids
/// (<see cref="ModelWindows"/>: the Hugging Face guide's sliding windows, lm-evaluation-harness's
/// rolling ones or llama.cpp's chunks, over each document of the text) and row r is the logits that
/// predict the r-th scored token, with that token as the target and its bytes of text (for bits per
/// byte). Every corpus run, shard, partial and merge works on it as on a file of logits, without
/// the logits touching a disk.
/// </summary>
/// <remarks>
/// On a GPU the model runs on the run's reader thread, a chunk ahead of the measures; on the CPU it
/// runs in turn with them (<see cref="ReadAhead"/>), as both would fill every core. ONNX Runtime writes
/// each batch's logits into pinned buffers of this source, and chunks (which end at window edges,
/// <see cref="ChunkRows"/>) are handed to the engine in place: the logits are not copied on the host.
/// A buffer is reused once every block pointing into it has been refilled, so a run holds at most
/// (chunks in flight + 1) batches of logits. The source does not own the model.
/// </remarks>
public sealed class ModelRowSource : RowSource
{
    private readonly OnnxLanguageModel _model;
    private readonly TokenizedText _text;
    private readonly ModelWindowOptions _options;
    private readonly List<LogitsBuffer> _buffers = [];
    private readonly Dictionary<RowBlock, LogitsBuffer> _handed = [];
    private readonly Lazy<string> _tokensHash;
    private readonly long _bufferValues;
    private readonly int[] _inputs;
    private readonly bool _sharesPrefixes;
    private readonly Dictionary<int, KeyValueCache> _caches = [];

    /// <exception cref="ArgumentException">Bad window options, a text of fewer than 2 tokens, or a batch of logits too large for one array.</exception>
    /// <exception cref="InvalidFileException">A token id the model's vocabulary does not have (names the model).</exception>
    public ModelRowSource(OnnxLanguageModel model, TokenizedText text, ModelWindowOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(text);
        var o = options ?? new ModelWindowOptions();
        o.Validate();
        if (text.Ids.Length < 2)
        {
            throw new ArgumentException($"{text.Name} has {text.Ids.Length} token{(text.Ids.Length == 1 ? "" : "s")}; scoring needs at least 2.", nameof(text));
        }

        if (text.PrefixToken >= model.Vocab)
        {
            throw new ArgumentException($"the prefix token {text.PrefixToken} before each document of {text.Name} is not in the model's vocabulary (0 to {model.Vocab - 1}).", nameof(text));
        }

        if (text.MaxId >= model.Vocab)
        {
            int at = Array.FindIndex(text.Ids, id => id >= model.Vocab);
            throw new InvalidFileException(model.Path,
                $"vocabulary {model.Vocab} has no token {text.MaxId} ({text.Name}, token {at}, from {text.Tokenizer}): the model and the ids do not match.");
        }

        _model = model;
        _text = text;
        _options = o;
        Windows = WindowsOf(text, o);
        _inputs = text.Ids;
        if (Windows.FirstInputReplaced && text.PrefixToken is { } prefix)
        {
            // llama.cpp's BOS in place of each chunk's first token: never a target, so only the inputs change.
            _inputs = (int[])text.Ids.Clone();
            for (int k = 0; k < Windows.Count; k++)
            {
                _inputs[Windows.Begin(k)] = prefix;
            }
        }

        // A buffer holds the longest batch there is: at most Batch windows (or as many as there are), each
        // at most Context tokens (or the longest document's length), not what the options allow on a longer text.
        int windows = Math.Min(o.Batch, Windows.Count);
        var values = (Int128)windows * Windows.MaxLength * model.Vocab;
        var bytes = values * (model.Type == ScalarType.Float32 ? 4 : 2);
        long memory = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        if (bytes > memory)
        {
            throw new ArgumentException(
                $"a batch's logits ({windows} windows x {Windows.MaxLength} tokens x {model.Vocab} vocabulary = {values} values, {(double)bytes / 1e9:F1} GB) exceed this machine's memory ({memory / 1e9:F1} GB): use a smaller batch or context.",
                nameof(options));
        }

        _bufferValues = (long)values;
        _sharesPrefixes = model.ReusesPast && text.RequestGroups is not null && Windows.Protocol == WindowProtocol.Continuation
            && Windows.Count == text.DocumentStarts.Count;
        if (_sharesPrefixes)
        {
            // Keys and values held beside the logits: a file's first request's, a document's first's, and a batch's past.
            long perToken = model.PastPorts!.Sum(p => (long)p.Heads * p.HeadSize * (p.Type == Microsoft.ML.OnnxRuntime.Tensors.TensorElementType.Float ? 4 : 2));
            var past = (Int128)(windows + 2) * Windows.MaxLength * perToken;
            if (bytes + past > memory)
            {
                throw new ArgumentException(
                    $"a batch's logits ({(double)bytes / 1e9:F1} GB) and the keys and values its requests share ({windows + 2} windows x {Windows.MaxLength} tokens x {perToken} bytes, {(double)past / 1e9:F1} GB) exceed this machine's memory ({memory / 1e9:F1} GB): use a smaller batch or context.",
                    nameof(options));
            }
        }
        _tokensHash = new(() => Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(text.Ids.AsSpan()))));
    }

    public ModelWindows Windows { get; }

    /// <summary>"; CONFIG's KEY is N" where the model's export folder's config.json names its length, else empty.</summary>
    private string ConfiguredPositions()
    {
        try
        {
            return OnnxModelFolder.ConfigFile(_model.Path) is { } config && HarnessMaxLength.FromConfig(config) is var (length, source)
                ? $"; {source} is {length}"
                : "";
        }
        catch (InvalidFileException)
        {
            return "";
        }
    }

    /// <summary>The text the model scores.</summary>
    public TokenizedText Text => _text;

    /// <summary>Tokens of the text that no window scores (<see cref="ModelWindows.Unscored"/> less the prefix tokens put before documents, which are not the text's).</summary>
    public long UnscoredTextTokens => Windows.Unscored - (Windows.Tokens - _text.TextTokens);

    /// <summary>The windows <paramref name="options"/> cut <paramref name="text"/> into, each of its documents on its own.</summary>
    /// <exception cref="ArgumentException">Bad window options.</exception>
    /// <exception cref="InvalidFileException">Nothing to score in the text (bad input data, naming the text).</exception>
    public static ModelWindows WindowsOf(TokenizedText text, ModelWindowOptions options)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        try
        {
            return options.Protocol switch
            {
                WindowProtocol.Rolling => ModelWindows.Rolling(text.Ids.Length, options.Context, text.DocumentStarts),
                WindowProtocol.Chunks => ModelWindows.Chunks(text.Ids.Length, options.Context, text.DocumentStarts),
                WindowProtocol.Continuation => ModelWindows.Continuations(text.Ids.Length, options.Context, text.DocumentStarts,
                    text.Continuations ?? throw new ArgumentException($"{text.Name} is not a text of loglikelihood requests (LoglikelihoodRequests.Encode makes one): it has no continuations to score.", nameof(text))),
                _ => ModelWindows.Sliding(text.Ids.Length, options.Context, options.Stride, text.DocumentStarts),
            };
        }
        catch (ArgumentException e) when (e.ParamName is "tokens" or "continuations")
        {
            // The options are fine; the text is too short for them: its fault, named as such.
            throw new InvalidFileException(text.Name, e.Message.Split('\n')[0].Replace($" (Parameter '{e.ParamName}')", "", StringComparison.Ordinal));
        }
    }

    public override long Rows => Windows.Rows;

    public override int Vocab => _model.Vocab;

    public override ScalarType Type => _model.Type;

    public override bool HasTargets => true;

    /// <summary>False when the CPU runs the model: the model and the measures then take the cores in turn, and a run holds one batch of logits, not two.</summary>
    public override bool ReadAhead => !_model.RunsOnCpu;

    public override bool HasTargetBytes => _text.Bytes is not null;

    public override bool HasTargetWords => _text.Words is not null;

    public override string Name => _model.Path;

    public override string TargetsName => _text.Name;

    /// <summary>The token put before each document, or null (<see cref="TokenizedText.PrefixToken"/>).</summary>
    public int? PrefixToken => _text.PrefixToken;

    /// <summary>Batches of logits allocated so far (each min(batch, windows) × min(context, tokens) × vocabulary values).</summary>
    public int BuffersAllocated => _buffers.Count;

    /// <summary>Windows the model has run so far: fewer than <see cref="ModelWindows.Count"/> where requests' windows feed it the same tokens (run once).</summary>
    public long WindowsRun { get; private set; }

    /// <summary>
    /// Whether requests' tokens shared with their group's first are run once (<see cref="TokenizedText.RequestGroups"/>, a model that
    /// <see cref="OnnxLanguageModel.ReusesPast"/>): a section's first request runs whole, a group's first after the keys and values of
    /// the tokens it begins with alike with its section's first, and the group's others after the group's first's, each up to its
    /// first scored token; a batch holds windows of one parent, and a window whose keys and values others are fed runs alone.
    /// </summary>
    public bool SharesPrefixes => _sharesPrefixes;

    /// <summary>Tokens of windows not run but fed as keys and values of an earlier run, their group's or section's first (<see cref="SharesPrefixes"/>), summed over the windows.</summary>
    public long SharedTokens { get; private set; }

    public override SourceDescription Describe()
    {
        var settings = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["context"] = Windows.Context.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["stride"] = Windows.Stride.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["tokens"] = _text.Ids.Length.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["tokens_sha256"] = _tokensHash.Value,
            ["tokenizer"] = TokenizerLabel(_text.Tokenizer),
        };

        // Only where they differ from one sliding-window text, so that earlier partials still merge.
        if (Windows.Protocol != WindowProtocol.Sliding)
        {
            settings["protocol"] = Windows.Protocol.ToString().ToLowerInvariant();
        }

        if (_text.DocumentStarts.Count > 1)
        {
            // Where documents start changes which windows score which token: the same ids split otherwise are another source.
            settings["documents"] = _text.DocumentStarts.Count.ToString(System.Globalization.CultureInfo.InvariantCulture);
            settings["document_starts_sha256"] = Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(_text.DocumentStarts.ToArray().AsSpan())));
        }

        if (_text.PrefixToken is { } prefix)
        {
            settings["prefix_token"] = prefix.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (_text.Continuations is { } continuations && Windows.Protocol == WindowProtocol.Continuation)
        {
            settings["continuations_sha256"] = Convert.ToHexStringLower(SHA256.HashData(MemoryMarshal.AsBytes(continuations.ToArray().AsSpan())));
        }

        return new SourceDescription("onnx-model", Rows, Vocab, Type, Values, [.. _model.Fingerprints], settings);
    }

    /// <summary>Chunks end where a window's rows do, so each lies in one window's logits.</summary>
    protected internal override int ChunkRows(long firstRow, int maxRows)
    {
        var (k, _) = Windows.Locate(firstRow);
        return (int)Math.Min(maxRows, Windows.FirstRow(k) + Windows.RowsOf(k) - firstRow);
    }

    /// <summary>The run's blocks are done with: every buffer is free again.</summary>
    protected internal override void OnRunEnded()
    {
        Evict(Windows.Count);
        _handed.Clear();
        foreach (var buffer in _buffers)
        {
            buffer.Users = 0;
        }
    }

    protected internal override void Read(RowBlock block)
    {
        if (_handed.Remove(block, out var previous))
        {
            previous.Users--;
        }

        var (k, position) = Windows.Locate(block.FirstRow);
        if (position + block.Rows > Windows.Length(k))
        {
            throw new ArgumentException($"rows [{block.FirstRow}, {block.FirstRow + block.Rows}) cross the end of window {k}.", nameof(block));
        }

        var buffer = _buffers.Find(b => b.Holds(k)) ?? RunBatch(RunsWith(k));
        buffer.Hand(block, k, position, block.Rows, Vocab);
        _handed[block] = buffer;
        var targets = block.Targets;
        var bytes = block.TargetBytes;
        var words = block.TargetWords;
        long token = Windows.TokenOfRow(block.FirstRow);
        for (int i = 0; i < block.Rows; i++)
        {
            targets[i] = _text.Ids[token + i];
            if (_text.Bytes is { } b)
            {
                bytes[i] = b[token + i];
            }

            if (_text.Words is { } w)
            {
                words[i] = w[token + i];
            }
        }
    }

    /// <summary>
    /// Runs windows from <paramref name="first"/> on (up to the batch size, all of one length) into a free buffer. Requests'
    /// windows (<see cref="WindowProtocol.Continuation"/>), each as long as its request, run together as long as the longest:
    /// each one's inputs go on into the tokens after it, which a causal model's logits at its own positions do not see.
    /// </summary>
    private LogitsBuffer RunBatch(int first)
    {
        bool padded = Windows.Protocol == WindowProtocol.Continuation;
        int length = Windows.Length(first);
        var starts = new List<long> { Windows.Begin(first) };
        var slots = new List<int> { 0 };
        bool shared = false;
        for (int k = first + 1; k < Windows.Count; k++)
        {
            if (padded && RunsWithPrevious(k))
            {
                // The request before's window, run once for both (the harness's one-token continuations, grouped by context).
                slots.Add(slots[^1]);
                shared = true;
                continue;
            }

            int longest = Math.Max(length, Windows.Length(k));
            if (starts.Count == _options.Batch || (padded ? Windows.Begin(k) + longest > _inputs.LongLength : Windows.Length(k) != length))
            {
                break;
            }

            // A batch shares one past: its windows have one parent, and one whose keys and values later windows are fed runs alone.
            if (_sharesPrefixes && (Parent(k) != Parent(first) || HasFollowers(k, RunEnd(k))))
            {
                break;
            }

            length = longest;
            slots.Add(starts.Count);
            starts.Add(Windows.Begin(k));
        }

        var buffer = _buffers.Find(b => b.Users == 0);
        if (buffer is null)
        {
            buffer = new LogitsBuffer(Type, _bufferValues);
            _buffers.Add(buffer);
        }

        int firstScored = Enumerable.Range(first, slots.Count).Min(Windows.FirstScoredPosition);
        buffer.FirstWindow = -1;
        KeyValueCache.Feed? past = null;
        KeyValueCache? fill = null;
        int keep = 0, offset = 0;
        try
        {
            if (_sharesPrefixes)
            {
                past = PastOf(first, starts, length, firstScored, buffer);
                fill = HasFollowers(first, first + slots.Count) ? new KeyValueCache(_model.PastPorts!, _inputs.AsSpan((int)Windows.Begin(first), length).ToArray(), first) : null;
            }

            // A model that takes logits_to_keep runs its head on the positions the batch scores alone (each window's last ones).
            offset = past?.Length ?? 0;
            keep = _model.KeepsLastLogits && firstScored > offset ? length - firstScored : 0;
            _model.Run(_inputs, starts, length, buffer, keep, past, fill);
            if (fill is not null)
            {
                _caches[first] = fill;
                fill = null;
            }

            SharedTokens += (long)offset * starts.Count;
        }
        catch (OnnxRuntimeException e)
        {
            // Most often a model exported for fewer positions than the window (a Gather index out of range).
            throw new InvalidFileException(_model.Path,
                $"ONNX Runtime failed on windows of {length} tokens{(keep > 0 ? $", asked for their last {keep} positions' logits through logits_to_keep" : "")}: {e.Message.Split('\n')[0].Trim()} (a model built for fewer positions needs a shorter context window{ConfiguredPositions()})");
        }
        finally
        {
            past?.Dispose();
            fill?.Dispose();
        }

        if (_sharesPrefixes)
        {
            Evict(first + slots.Count);
        }

        WindowsRun += starts.Count;
        buffer.FirstWindow = first;
        buffer.Windows = slots.Count;
        buffer.Slots = shared ? [.. slots] : null;
        buffer.Length = keep == 0 ? length - offset : keep;
        buffer.FirstPosition = length - buffer.Length;
        return buffer;
    }

    /// <summary>
    /// The window whose keys and values <paramref name="window"/> is fed as its past: its group's first (<see cref="TokenizedText.RequestGroups"/>),
    /// or for a group's first its section's first; -1 for a section's first, which runs whole.
    /// </summary>
    private int Parent(int window)
    {
        int group = GroupStart(window);
        if (window != group)
        {
            return group;
        }

        int section = SectionStart(window);
        return window != section ? section : -1;
    }

    /// <summary>Whether windows from <paramref name="end"/> on are fed the keys and values of <paramref name="window"/>'s run (it is their group's or section's first).</summary>
    private bool HasFollowers(int window, int end) =>
        end < Windows.Count && (GroupStart(end) == window || SectionStart(end) == window);

    /// <summary>
    /// The keys and values of the tokens the windows starting at <paramref name="starts"/> (each as long as <paramref name="length"/>,
    /// <paramref name="window"/> the first) all begin with alike with their <see cref="Parent"/>, up to their first scored position
    /// <paramref name="firstScored"/>, for each of them; null where they run whole.
    /// </summary>
    private KeyValueCache.Feed? PastOf(int window, IReadOnlyList<long> starts, int length, int firstScored, LogitsBuffer buffer)
    {
        int parent = Parent(window);
        if (parent < 0)
        {
            return null;
        }

        var cache = CacheOf(parent, buffer);
        int common = firstScored;
        foreach (long start in starts)
        {
            common = Math.Min(common, _inputs.AsSpan((int)start, length).CommonPrefixLength(cache.Tokens));
        }

        return common > 0 ? cache.Past(common, starts.Count) : null;
    }

    /// <summary>The first window after <paramref name="k"/> not run with it (<see cref="RunsWithPrevious"/>).</summary>
    private int RunEnd(int k)
    {
        int end = k + 1;
        while (end < Windows.Count && RunsWithPrevious(end))
        {
            end++;
        }

        return end;
    }

    /// <summary>
    /// The keys and values of <paramref name="window"/>'s run; where they are not held (read out of order), it runs again, as it ran
    /// before (after its own parent's), into <paramref name="buffer"/>: a window's scores never depend on the order read.
    /// </summary>
    private KeyValueCache CacheOf(int window, LogitsBuffer buffer)
    {
        if (_caches.TryGetValue(window, out var held))
        {
            return held;
        }

        int length = Windows.Length(window);
        var cache = new KeyValueCache(_model.PastPorts!, _inputs.AsSpan((int)Windows.Begin(window), length).ToArray(), window);
        try
        {
            using var past = PastOf(window, [Windows.Begin(window)], length, Windows.FirstScoredPosition(window), buffer);
            _model.Run(_inputs, [Windows.Begin(window)], length, buffer, past: past, fill: cache);
        }
        catch
        {
            cache.Dispose();
            throw;
        }

        _caches[window] = cache;
        return cache;
    }

    /// <summary>Lets go of the keys and values no window from <paramref name="next"/> on is fed (all, at the end).</summary>
    private void Evict(int next)
    {
        foreach (int window in _caches.Keys.ToList())
        {
            if (next >= Windows.Count || (window != GroupStart(next) && window != SectionStart(next)))
            {
                _caches.Remove(window, out var cache);
                cache!.Dispose();
            }
        }
    }

    /// <summary>The first window of <paramref name="window"/>'s group (<see cref="TokenizedText.RequestGroups"/>).</summary>
    private int GroupStart(int window) => Start(_text.RequestGroups!, window);

    /// <summary>The first window of <paramref name="window"/>'s section (<see cref="TokenizedText.RequestSections"/>; one section where none are marked).</summary>
    private int SectionStart(int window) => _text.RequestSections is { } sections ? Start(sections, window) : 0;

    /// <summary>The last of <paramref name="starts"/> (ascending, the first 0) at or before <paramref name="window"/>.</summary>
    private static int Start(IReadOnlyList<int> starts, int window)
    {
        int lo = 0, hi = starts.Count - 1;
        while (lo < hi)
        {
            int mid = (lo + hi + 1) / 2;
            if (starts[mid] <= window)
            {
                lo = mid;
            }
            else
            {
                hi = mid - 1;
            }
        }

        return starts[lo];
    }

    /// <summary>Whether window <paramref name="k"/> is run with the window before (the same inputs, within a group where groups share their first tokens).</summary>
    private bool RunsWithPrevious(int k) =>
        Windows.Protocol == WindowProtocol.Continuation && k > 0 && SameInputs(k - 1, k) && !(_sharesPrefixes && GroupStart(k) == k);

    /// <summary>The window whose run gives <paramref name="k"/>'s logits (read out of order too: a window's scores never depend on the order read).</summary>
    private int RunsWith(int k)
    {
        while (RunsWithPrevious(k))
        {
            k--;
        }

        return k;
    }

    /// <summary>Whether windows <paramref name="a"/> and <paramref name="b"/> feed the model the same tokens (so a causal model gives them the same logits).</summary>
    private bool SameInputs(int a, int b) =>
        Windows.Length(a) == Windows.Length(b) && _inputs.AsSpan((int)Windows.Begin(a), Windows.Length(a)).SequenceEqual(_inputs.AsSpan((int)Windows.Begin(b), Windows.Length(b)));

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            Evict(Windows.Count);
            _handed.Clear();
            foreach (var buffer in _buffers)
            {
                buffer.Dispose();
            }

            _buffers.Clear();
        }

        base.Dispose(disposing);
    }

    private static string TokenizerLabel(string tokenizer) =>
        tokenizer.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal) || tokenizer.Contains('.', StringComparison.Ordinal) ? Path.GetFileName(tokenizer) : tokenizer;
}
