using System.Diagnostics;
using GpuInfo.Corpus;
using GpuInfo.Formats;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GpuInfo.Models;

/// <summary>
/// A causal language model in an ONNX file, run by ONNX Runtime: token ids [B, S] in
/// (<see cref="ModelInputs"/>), logits [B, S, V] out (an output named <c>logits</c>, or the only
/// output; float32, float16 or bfloat16), written straight into a caller's buffer
/// (<see cref="LogitsBuffer"/>). Opening checks the file, the inputs and the output's rank.
/// </summary>
public sealed class OnnxLanguageModel : IDisposable
{
    /// <summary>Partials fingerprint a model (and each file of its external data) by its size, the SHA-256 of its first MiB (graph and first weights) and a sample of the rest, not all of it.</summary>
    private const long FingerprintBytes = 1L << 20;

    private readonly InferenceSession _session;
    private readonly byte[]? _bytes;
    private readonly ModelInputs _inputs;
    private readonly string _output;
    private readonly TensorElementType _outputType;
    private readonly Lazy<IReadOnlyList<FileFingerprint>> _fingerprints;
    private IReadOnlyList<KeyValueCache.Port>? _pastPorts;
    private long _runTicks;

    private OnnxLanguageModel(string path, byte[]? bytes, InferenceSession session, ModelInputs inputs, string output, TensorElementType outputType, int vocab, string provider)
    {
        Path = path;
        _bytes = bytes;
        _session = session;
        _inputs = inputs;
        _output = output;
        _outputType = outputType;
        Vocab = vocab;
        Provider = provider;
        _fingerprints = new(() => bytes is null ? OfFile(path) : [FileFingerprint.Of("model", path, bytes, FingerprintBytes)]);
        Type = outputType switch
        {
            TensorElementType.Float16 => ScalarType.Float16,
            TensorElementType.BFloat16 => ScalarType.BFloat16,
            _ => ScalarType.Float32,
        };
    }

    public string Path { get; }

    /// <summary>The size of the logits' last axis.</summary>
    public int Vocab { get; }

    /// <summary>The logits' element type.</summary>
    public ScalarType Type { get; }

    /// <summary>
    /// The execution provider running the model: "cuda:0", or "cpu (N threads)" and, when CUDA was
    /// asked for and did not load, why (e.g. "cpu (2 threads; CUDA provider unavailable: ...)").
    /// </summary>
    public string Provider { get; }

    /// <summary>True when the CPU provider runs the model (on the cores the SIMD measures use).</summary>
    public bool RunsOnCpu => Provider.StartsWith("cpu", StringComparison.Ordinal);

    /// <summary>The inputs the model is fed.</summary>
    public IReadOnlyList<string> Inputs => _inputs.Names;

    /// <summary>
    /// Whether opening checked that the model is causal (two windows sharing their first token): false
    /// where the model does not run on 4-token windows (a fixed window length), or its vocabulary is 1.
    /// </summary>
    public bool CausalityChecked { get; private set; }

    /// <summary>
    /// Whether windows can be fed keys and values of earlier runs as their past (<see cref="PastReuse"/>), so that requests
    /// that begin with the same tokens run them once (<see cref="ModelRowSource"/>, requests grouped by <see cref="LoglikelihoodRequests.Grouped"/>).
    /// </summary>
    public bool ReusesPast => _pastPorts is not null;

    /// <summary>How a past is reused, or "none: " and why not (no KV cache, another layout, or one that changes the logits when fed back).</summary>
    public string PastReuse { get; private set; } = "";

    internal IReadOnlyList<KeyValueCache.Port>? PastPorts => _pastPorts;

    /// <summary>Every input with what it is fed, in the order fed.</summary>
    public IReadOnlyList<OnnxPort> InputPorts => _inputs.Ports;

    /// <summary>Every output; the logits' port says it is read.</summary>
    public IReadOnlyList<OnnxPort> OutputPorts => [.. _session.OutputMetadata.Select(kv => new OnnxPort(kv.Key,
        kv.Value.IsTensor ? ModelInputs.Port.DType(kv.Value.ElementDataType) : kv.Value.OnnxValueType.ToString().ToLowerInvariant(),
        kv.Value.IsTensor ? ModelInputs.Port.Shape(kv.Value.Dimensions, kv.Value.SymbolicDimensions) : [],
        kv.Key == _output ? "the logits [B, S, V]" : null))];

    /// <summary>The files the model keeps its weights in beside its own (external data), relative to its folder; none for a model held in memory.</summary>
    public IReadOnlyList<string> ExternalDataFiles => _bytes is null ? OnnxExternalData.Locations(Path) : [];

    /// <summary>Seconds spent inside ONNX Runtime's Run so far.</summary>
    public double RunSeconds => Interlocked.Read(ref _runTicks) / (double)Stopwatch.Frequency;

    /// <param name="path">An ONNX file, or a folder an export laid out (<see cref="OnnxModelFolder.ModelFile"/>).</param>
    /// <exception cref="InvalidFileException">Missing, not an ONNX model, or not a causal LM's inputs and [B, S, V] logits; names the file.</exception>
    /// <exception cref="DeviceUnavailableException">The CUDA provider was asked for and cannot be used.</exception>
    public static OnnxLanguageModel Open(string path, OnnxModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var o = options ?? new OnnxModelOptions();
        o.Validate();
        if (Directory.Exists(path))
        {
            path = OnnxModelFolder.ModelFile(path);
        }
        else if (!File.Exists(path))
        {
            throw new InvalidFileException(path, "no such model file.");
        }

        return Create(path, null, o);
    }

    /// <summary>A model held in memory (e.g. an embedded resource); <paramref name="name"/> is what errors and partials call it.</summary>
    /// <inheritdoc cref="Open(string, OnnxModelOptions?)"/>
    public static OnnxLanguageModel Load(byte[] model, string name, OnnxModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(name);
        var o = options ?? new OnnxModelOptions();
        o.Validate();
        return Create(name, model, o);
    }

    /// <summary>How partials identify the model: its file, and the files of its external data.</summary>
    public IReadOnlyList<FileFingerprint> Fingerprints => _fingerprints.Value;

    private static FileFingerprint[] OfFile(string path)
    {
        string folder = System.IO.Path.GetDirectoryName(path) ?? "";
        return
        [
            FileFingerprint.Of("model", path, FingerprintBytes),
            .. OnnxExternalData.Locations(path).Select(location => FileFingerprint.Of("model-data", System.IO.Path.Combine(folder, location), FingerprintBytes)),
        ];
    }

    private static OnnxLanguageModel Create(string path, byte[]? bytes, OnnxModelOptions o)
    {
        var (session, provider) = ExecutionProviders.CreateSession(path, bytes, o);
        try
        {
            var inputs = ModelInputs.Find(path, session.InputMetadata);
            var outputs = session.OutputMetadata;
            string output = outputs.ContainsKey("logits") ? "logits"
                : outputs.Count == 1 ? outputs.Keys.First()
                : throw new InvalidFileException(path, $"has no output named logits (its outputs: {string.Join(", ", outputs.Keys)}).");
            var meta = outputs[output];
            if (!meta.IsTensor || meta.Dimensions.Length != 3)
            {
                throw new InvalidFileException(path, $"output {output} has rank {(meta.IsTensor ? meta.Dimensions.Length : 0)}; logits must be [batch, sequence, vocabulary].");
            }

            if (meta.ElementDataType is not (TensorElementType.Float or TensorElementType.Float16 or TensorElementType.BFloat16))
            {
                throw new InvalidFileException(path, $"output {output} holds {meta.ElementDataType}; logits must be float32, float16 or bfloat16.");
            }

            int vocab = meta.Dimensions[2];
            if (vocab <= 0)
            {
                throw new InvalidFileException(path, $"output {output} leaves the vocabulary axis unsized ({meta.SymbolicDimensions[2]}); export it with a fixed vocabulary.");
            }

            var model = new OnnxLanguageModel(path, bytes, session, inputs, output, meta.ElementDataType, vocab, provider);
            model.CheckCausal();
            model.CheckPastReuse(inputs.PastPorts(outputs, out string why), why);
            return model;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Whether the model takes <c>logits_to_keep</c> (transformers' exports of newer models): it can run its head on the last positions alone.</summary>
    public bool KeepsLastLogits => _inputs.KeepsLastLogits;

    /// <summary>
    /// Runs windows of <paramref name="length"/> ids starting at <paramref name="windowStarts"/> and writes their logits, [windows, length, vocab],
    /// or with <paramref name="keep"/> (1 to length − 1, on a model that <see cref="KeepsLastLogits"/>) those of each window's last
    /// <paramref name="keep"/> positions, [windows, keep, vocab], to the start of <paramref name="buffer"/>. With <paramref name="past"/>
    /// (keys and values of each window's first tokens, <see cref="KeyValueCache.Past"/>) only the tokens after it run: the length less
    /// the past's stands for <paramref name="length"/> above. <paramref name="fill"/> (one window) is given its keys and values, the past's included.
    /// </summary>
    /// <exception cref="OnnxRuntimeException">ONNX Runtime failed (e.g. positions beyond what the model was built for).</exception>
    internal void Run(ReadOnlySpan<int> ids, IReadOnlyList<long> windowStarts, int length, LogitsBuffer buffer, int keep = 0, KeyValueCache.Feed? past = null, KeyValueCache? fill = null)
    {
        int offset = past?.Length ?? 0;
        int fed = length - offset;
        if (keep != 0 && (!KeepsLastLogits || keep < 1 || keep >= fed))
        {
            throw new ArgumentOutOfRangeException(nameof(keep), keep, $"a model {(KeepsLastLogits ? "" : "without logits_to_keep ")}keeps 1 to {fed - 1} of {fed} positions' logits, or all (0).");
        }

        if (fed < 1 || (past is not null && _pastPorts is null))
        {
            throw new ArgumentException($"a past of {offset} tokens before windows of {length}{(_pastPorts is null ? ", to a model that is not fed one" : "")}.", nameof(past));
        }

        if (fill is not null && (windowStarts.Count != 1 || fill.Tokens.Length != length))
        {
            throw new ArgumentException("a cache is filled by one window of its length.", nameof(fill));
        }

        long[] shape = [windowStarts.Count, keep == 0 ? fed : keep, Vocab];
        long elements = shape[0] * shape[1] * shape[2];
        if (elements > buffer.Capacity)
        {
            throw new ArgumentException($"the buffer holds {buffer.Capacity} values, the logits {elements}.", nameof(buffer));
        }

        var starts = offset == 0 ? windowStarts : [.. windowStarts.Select(s => s + offset)];
        var inputs = _inputs.Create(ids, starts, fed, keep, past);
        try
        {
            using var output = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, _outputType, shape, buffer.Address, elements * (Type == ScalarType.Float32 ? 4 : 2));
            long start = Stopwatch.GetTimestamp();
            _session.Run(null, _inputs.Names.ToArray(), inputs, [_output, .. fill?.PresentNames ?? []], [output, .. fill?.Presents ?? []]);
            Interlocked.Add(ref _runTicks, Stopwatch.GetTimestamp() - start);
        }
        finally
        {
            foreach (var input in inputs)
            {
                if (past is null || !past.Values.Contains(input))
                {
                    input.Dispose();
                }
            }
        }
    }

    /// <summary>
    /// Where the model takes a KV cache laid out as optimum exports it and gives it back (<c>present.*</c>): runs a window whole, then
    /// its last tokens after its first ones' keys and values, and reuses pasts (<see cref="ReusesPast"/>) only where both give the
    /// same logits; else <see cref="PastReuse"/> says why not.
    /// </summary>
    private void CheckPastReuse(IReadOnlyList<KeyValueCache.Port>? ports, string why)
    {
        const int Length = 6, Shared = 3;
        if (ports is null)
        {
            PastReuse = $"none: {why}";
            return;
        }

        int[] ids = [.. new[] { 1, 2, 3, 4, 5, 6 }.Select(id => id % Vocab)];
        using LogitsBuffer whole = new(Type, Length * Vocab), rest = new(Type, (Length - Shared) * Vocab);
        _pastPorts = ports;
        try
        {
            using var cache = new KeyValueCache(ports, ids, -1);
            Run(ids, [0], Length, whole, fill: cache);
            using var past = cache.Past(Shared, 1);
            Run(ids, [0], Length, rest, past: past);
        }
        catch (OnnxRuntimeException e)
        {
            _pastPorts = null;
            PastReuse = $"none: ONNX Runtime failed on a window fed its first tokens' keys and values: {e.Message.Split('\n')[0].Trim()}";
            return;
        }
        finally
        {
            Interlocked.Exchange(ref _runTicks, 0);
        }

        var (difference, largest) = Difference(i => whole[(Shared * (long)Vocab) + i], i => rest[i], (Length - Shared) * (long)Vocab);
        if (!(difference <= Tolerance(largest)))
        {
            _pastPorts = null;
            PastReuse = $"none: fed its first tokens' keys and values, a window's logits change by up to {difference:G3} (of logits up to {largest:G3})";
            return;
        }

        PastReuse = $"{ports[0].Present}… fed back as {ports[0].Past}…: the first tokens requests share run once";
    }

    /// <summary>The largest difference of two runs' logits (entries both give alike, -inf included, agree; NaN is left to the measures), and the largest logit.</summary>
    private static (double Difference, double Largest) Difference(Func<long, float> first, Func<long, float> second, long count)
    {
        double difference = 0, largest = 0;
        for (long v = 0; v < count; v++)
        {
            float a = first(v), b = second(v);
            if (a == b || float.IsNaN(a) || float.IsNaN(b))
            {
                largest = float.IsFinite(a) ? Math.Max(largest, Math.Abs(a)) : largest;
                continue;
            }

            difference = Math.Max(difference, float.IsFinite(a) && float.IsFinite(b) ? Math.Abs((double)a - b) : double.PositiveInfinity);
            largest = Math.Max(largest, Math.Max(float.IsFinite(a) ? Math.Abs(a) : 0, float.IsFinite(b) ? Math.Abs(b) : 0));
        }

        return (difference, largest);
    }

    /// <summary>Causal exports read exactly 0 here (optimum's GPT-2 and Llama, every export kind); the tolerance leaves a 16-bit output a few units in its last place.</summary>
    private double Tolerance(double largest)
    {
        double unit = Type switch { ScalarType.BFloat16 => 1.0 / 128, ScalarType.Float16 => 1.0 / 1024, _ => 1.0 / 8388608 };
        return Math.Max(1e-3, 4 * unit) * Math.Max(1, largest);
    }

    /// <summary>
    /// Runs two windows that share their first token and differ in the next ones: a causal LM's
    /// logits for that first token cannot tell them apart. One that attends to later tokens (a
    /// bidirectional model, or a decoder exported to take one token at a time after its cache, as
    /// optimum's legacy decoder_with_past_model.onnx of a Llama, which builds no causal mask for
    /// longer inputs) would score every token with its future in view: refused, naming the file.
    /// </summary>
    private void CheckCausal()
    {
        const int Length = 4;
        if (Vocab < 2)
        {
            return;
        }

        int[] ids = [.. new[] { 1, 2, 3, 4, 1, 5, 6, 7 }.Select(id => id % Vocab)];
        using LogitsBuffer first = new(Type, Length * Vocab), second = new(Type, Length * Vocab);
        try
        {
            // One window a run, for exports that take a batch of 1 only.
            Run(ids, [0], Length, first);
            Run(ids, [Length], Length, second);
        }
        catch (OnnxRuntimeException) when (!_inputs.TakesPast)
        {
            return; // a fixed window length: the text's own windows fail, or not, with their own message
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidFileException(Path, $"ONNX Runtime failed on a 4-token window with the model's past_key_values fed empty: {e.Message.Split('\n')[0].Trim()} (a model that cannot run from an empty past: export it without one, optimum-cli export onnx --task text-generation).");
        }
        finally
        {
            Interlocked.Exchange(ref _runTicks, 0); // model_seconds counts the runs of the text's windows
        }

        var (difference, largest) = Difference(v => first[v], v => second[v], Vocab);
        CausalityChecked = true;

        // The Llama decoder_with_past reads 0.39 of logits up to 0.54.
        double tolerance = Tolerance(largest);
        if (!(difference <= tolerance))
        {
            throw new InvalidFileException(Path, $"is not causal as run here: its logits for a window's first token change by up to {difference:G3} (of logits up to {largest:G3}) with the tokens after it, so every token would be scored with its future in view; a bidirectional model cannot be scored, nor a decoder exported to take one token at a time after its cache (optimum's legacy decoder_with_past_model.onnx): use the export's model.onnx or decoder_model_merged.onnx (optimum-cli export onnx --task text-generation-with-past).");
        }
    }

    public void Dispose() => _session.Dispose();
}
