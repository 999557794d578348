using GpuInfo.Formats;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GpuInfo.Models;

/// <summary>
/// The inputs a causal LM exported by Hugging Face takes, found by name: <c>input_ids</c> [B, S]
/// and, when the model has them, <c>attention_mask</c> (all ones: windows are not padded) and
/// <c>position_ids</c> (0 … S − 1 in every window), int64 or int32. A model exported with its KV
/// cache (optimum's default for decoders, text-generation-with-past) also takes
/// <c>past_key_values.*</c> (or <c>past.*</c>): each is fed empty, its sequence axis 0, as
/// optimum and transformers.js feed a first step, so every window is scored from its own tokens
/// alone; a merged decoder's <c>use_cache_branch</c> is fed false, and <c>logits_to_keep</c> (or
/// <c>num_logits_to_keep</c>) the last positions a batch scores (0, in transformers every position's
/// logits, where it scores from the first), so the head runs on those alone. Any other
/// input (token type ids) is refused naming it.
/// </summary>
internal sealed class ModelInputs
{
    public const string Ids = "input_ids";
    public const string Mask = "attention_mask";
    public const string Positions = "position_ids";
    public const string CacheBranch = "use_cache_branch";
    public const string LogitsToKeep = "logits_to_keep";

    private enum Feed
    {
        Ids,
        Mask,
        Positions,
        EmptyPast,
        NoCacheBranch,
        AllLogits,
    }

    private readonly record struct Input(string Name, Feed Feed, TensorElementType Type, int[] Dimensions, string[] Symbols);

    private readonly Input[] _inputs;
    private readonly Dictionary<string, Array> _arrays = [];

    private ModelInputs(Input[] inputs) => _inputs = inputs;

    public IReadOnlyList<string> Names => [.. _inputs.Select(i => i.Name)];

    /// <summary>Each input, in the order the model is fed, and what it is fed.</summary>
    public IReadOnlyList<OnnxPort> Ports => [.. _inputs.Select(i => new OnnxPort(i.Name, Port.DType(i.Type), Port.Shape(i.Dimensions, i.Symbols), i.Feed switch
    {
        Feed.Ids => "the window's token ids",
        Feed.Mask => "ones (windows are not padded)",
        Feed.Positions => "0 … S − 1 in each window",
        Feed.EmptyPast => $"empty: [{string.Join(", ", EmptyPastShape(i.Dimensions, 1).Select((d, axis) => axis == 0 && i.Dimensions[0] <= 0 ? "batch" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]",
        Feed.NoCacheBranch => "false (the branch without a past)",
        _ => "the positions a batch scores: the last from its windows' first scored position on (every position's logits where that is all)",
    }))];

    /// <summary>Whether the model takes a KV cache (fed empty).</summary>
    public bool TakesPast => _inputs.Any(i => i.Feed == Feed.EmptyPast);

    /// <exception cref="InvalidFileException">No input_ids, an input this does not feed, or inputs of the wrong type or rank.</exception>
    public static ModelInputs Find(string path, IReadOnlyDictionary<string, NodeMetadata> metadata)
    {
        if (!metadata.ContainsKey(Ids))
        {
            throw new InvalidFileException(path, $"has no input named {Ids} (its inputs: {string.Join(", ", metadata.Keys)}); a causal LM exported as Hugging Face does takes {Ids} [batch, sequence].");
        }

        var inputs = new List<Input>();
        foreach (var (name, node) in metadata)
        {
            var feed = name switch
            {
                Ids => Feed.Ids,
                Mask => Feed.Mask,
                Positions => Feed.Positions,
                CacheBranch => Feed.NoCacheBranch,
                LogitsToKeep or "num_logits_to_keep" => Feed.AllLogits,
                _ when IsPast(name) => Feed.EmptyPast,
                _ => throw new InvalidFileException(path, $"needs the input {name}, which is not fed here (only {Ids}, {Mask}, {Positions}, an empty past_key_values.*, {CacheBranch} = false and {LogitsToKeep} = 0)."),
            };
            bool expected = feed switch
            {
                Feed.EmptyPast => node.IsTensor && node.ElementDataType is TensorElementType.Float or TensorElementType.Float16 or TensorElementType.BFloat16
                    && node.Dimensions.Length is 3 or 4,
                Feed.NoCacheBranch => node.IsTensor && node.ElementDataType == TensorElementType.Bool && node.Dimensions.All(d => d is 1 or -1),
                Feed.AllLogits => node.IsTensor && node.ElementDataType is TensorElementType.Int64 or TensorElementType.Int32 && node.Dimensions.All(d => d is 1 or -1),
                _ => node.IsTensor && node.ElementDataType is TensorElementType.Int64 or TensorElementType.Int32 && node.Dimensions.Length == 2,
            };
            if (!expected)
            {
                string type = node.IsTensor ? $"{node.ElementDataType} of rank {node.Dimensions.Length}" : node.OnnxValueType.ToString();
                string wanted = feed switch
                {
                    Feed.EmptyPast => "a float32, float16 or bfloat16 KV cache of rank 3 or 4",
                    Feed.NoCacheBranch => "one bool",
                    Feed.AllLogits => "one int64 or int32",
                    _ => "int64 or int32 [batch, sequence]",
                };
                throw new InvalidFileException(path, $"input {name} is {type}; expected {wanted}.");
            }

            if (feed == Feed.EmptyPast && !node.Dimensions.Skip(1).Any(d => d <= 0))
            {
                throw new InvalidFileException(path, $"input {name} is a past of fixed length [{string.Join(", ", node.Dimensions)}] (a static cache), which cannot be fed empty; export the model with a dynamic past (optimum-cli export onnx --task text-generation-with-past) or without one.");
            }

            inputs.Add(new Input(name, feed, node.ElementDataType, node.Dimensions, node.SymbolicDimensions));
        }

        return new ModelInputs([.. inputs.OrderBy(i => i.Feed == Feed.Ids ? 0 : 1)]);
    }

    private static bool IsPast(string name) =>
        name.StartsWith("past_key_values", StringComparison.Ordinal) || name.StartsWith("past.", StringComparison.Ordinal);

    /// <summary>
    /// The KV cache's inputs in the order fed, each with the output that gives it back after a run (<c>present.*</c> for
    /// <c>past_key_values.*</c> or <c>past.*</c>), where every one is [batch, heads, sequence, head size] with the heads and head
    /// size fixed, and its output is there, of its type and rank; else null, and <paramref name="why"/> says why not.
    /// </summary>
    public IReadOnlyList<KeyValueCache.Port>? PastPorts(IReadOnlyDictionary<string, NodeMetadata> outputs, out string why)
    {
        var ports = new List<KeyValueCache.Port>();
        foreach (var input in _inputs.Where(i => i.Feed == Feed.EmptyPast))
        {
            var d = input.Dimensions;
            if (d.Length != 4 || d[0] > 0 || d[1] <= 0 || d[2] > 0 || d[3] <= 0)
            {
                why = $"its past {input.Name} is [{string.Join(", ", Port.Shape(d, input.Symbols))}], not [batch, heads, sequence, head size] with fixed heads and head size";
                return null;
            }

            string present = "present" + input.Name[(input.Name.StartsWith("past_key_values", StringComparison.Ordinal) ? "past_key_values".Length : "past".Length)..];
            if (!outputs.TryGetValue(present, out var output) || !output.IsTensor || output.ElementDataType != input.Type || output.Dimensions.Length != 4)
            {
                why = $"it has no output {present} of {Port.DType(input.Type)} [batch, heads, sequence, head size] giving back its past {input.Name}";
                return null;
            }

            ports.Add(new KeyValueCache.Port(input.Name, present, input.Type, d[1], d[3]));
        }

        why = ports.Count == 0 ? "it takes no past" : "";
        return ports.Count == 0 ? null : ports;
    }

    /// <summary>Whether the model takes <c>logits_to_keep</c>: its logits can be asked for the last positions only.</summary>
    public bool KeepsLastLogits => _inputs.Any(i => i.Feed == Feed.AllLogits);

    /// <summary>
    /// The input tensors for windows starting at <paramref name="windowStarts"/> (each <paramref name="length"/> ids), over arrays reused from
    /// call to call; <c>logits_to_keep</c>, where the model takes it, is <paramref name="keep"/> (0: every position's logits). With
    /// <paramref name="past"/> (a <see cref="KeyValueCache.Past"/>), the windows go on after its tokens: positions from its length on, the
    /// mask over it too, and a merged decoder's <c>use_cache_branch</c> true.
    /// </summary>
    public OrtValue[] Create(ReadOnlySpan<int> ids, IReadOnlyList<long> windowStarts, int length, int keep = 0, KeyValueCache.Feed? past = null)
    {
        int batch = windowStarts.Count;
        long[] shape = [batch, length];
        var values = new OrtValue[_inputs.Length];
        try
        {
            int p = 0;
            for (int i = 0; i < _inputs.Length; i++)
            {
                values[i] = _inputs[i].Feed == Feed.EmptyPast && past is not null
                    ? past.Values[p++]
                    : Create(_inputs[i], ids, windowStarts, length, shape, keep, past?.Length ?? 0);
            }
        }
        catch
        {
            foreach (var value in values)
            {
                if (past is null || !past.Values.Contains(value))
                {
                    value?.Dispose();
                }
            }

            throw;
        }

        return values;
    }

    private OrtValue Create(Input input, ReadOnlySpan<int> ids, IReadOnlyList<long> windowStarts, int length, long[] shape, int keep, int offset) =>
        input.Feed switch
            {
                Feed.EmptyPast => OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, input.Type, EmptyPastShape(input.Dimensions, windowStarts.Count)),
                Feed.NoCacheBranch => OrtValue.CreateTensorValueFromMemory(new[] { offset > 0 }, [.. input.Dimensions.Select(_ => 1L)]),
                Feed.AllLogits when input.Type == TensorElementType.Int32 => OrtValue.CreateTensorValueFromMemory(new[] { keep }, [.. input.Dimensions.Select(_ => 1L)]),
                Feed.AllLogits => OrtValue.CreateTensorValueFromMemory(new[] { (long)keep }, [.. input.Dimensions.Select(_ => 1L)]),
                Feed.Mask when input.Type == TensorElementType.Int32 => OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, Ones<int>(input, shape[0] * (offset + length), 1), [shape[0], offset + length]),
                Feed.Mask => OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, Ones<long>(input, shape[0] * (offset + length), 1L), [shape[0], offset + length]),
                _ when input.Type == TensorElementType.Int32 => OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, Fill<int>(input, ids, windowStarts, length, offset, v => v), shape),
                _ => OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, Fill<long>(input, ids, windowStarts, length, offset, v => v), shape),
            };

    /// <summary>
    /// A past of no tokens: the declared sizes where the export fixed them (heads, head size), the
    /// batch on a free first axis, and 0 on every other free axis (the past's length).
    /// </summary>
    private static long[] EmptyPastShape(int[] dimensions, int batch) =>
        [.. dimensions.Select((d, axis) => d > 0 ? d : axis == 0 ? batch : 0L)];

    private Memory<T> Fill<T>(Input input, ReadOnlySpan<int> ids, IReadOnlyList<long> windowStarts, int length, int offset, Func<int, T> convert)
    {
        int size = windowStarts.Count * length;
        var values = Reused<T>(input, size);
        for (int b = 0; b < windowStarts.Count; b++)
        {
            var row = values.AsSpan(b * length, length);
            for (int s = 0; s < length; s++)
            {
                row[s] = convert(input.Feed == Feed.Ids ? ids[checked((int)windowStarts[b]) + s] : offset + s);
            }
        }

        return values.AsMemory(0, size);
    }

    private Memory<T> Ones<T>(Input input, long size, T one)
    {
        var values = Reused<T>(input, checked((int)size));
        values.AsSpan(0, (int)size).Fill(one);
        return values.AsMemory(0, (int)size);
    }

    private T[] Reused<T>(Input input, int size)
    {
        if (!_arrays.TryGetValue(input.Name, out var array) || array.Length < size)
        {
            _arrays[input.Name] = array = new T[size];
        }

        return (T[])array;
    }

    /// <summary>How ports spell element types and shapes.</summary>
    internal static class Port
    {
        public static string DType(TensorElementType type) => type switch
        {
            TensorElementType.Float => "float32",
            TensorElementType.Float16 => "float16",
            TensorElementType.BFloat16 => "bfloat16",
            TensorElementType.Double => "float64",
            _ => type.ToString().ToLowerInvariant(),
        };

        public static string[] Shape(int[] dimensions, string[] symbols) =>
            [.. dimensions.Select((d, axis) => d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture)
                : axis < symbols.Length && !string.IsNullOrEmpty(symbols[axis]) ? symbols[axis] : "?")];
    }
}
