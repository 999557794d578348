using GpuInfo.Formats;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GpuInfo.Models;

/// <summary>
/// The inputs a causal LM exported by Hugging Face takes, found by name: <c>input_ids</c> [B, S]
/// and, when the model has them, <c>attention_mask</c> (all ones: windows are not padded) and
/// <c>position_ids</c> (0 … S − 1 in every window), int64 or int32. Any other input (past key
/// values, token type ids) is refused naming it.
/// </summary>
internal sealed class ModelInputs
{
    public const string Ids = "input_ids";
    public const string Mask = "attention_mask";
    public const string Positions = "position_ids";

    private readonly (string Name, bool Int32)[] _inputs;
    private readonly Dictionary<string, Array> _arrays = [];

    private ModelInputs((string Name, bool Int32)[] inputs) => _inputs = inputs;

    public IReadOnlyList<string> Names => [.. _inputs.Select(i => i.Name)];

    /// <exception cref="InvalidFileException">No input_ids, an input this does not feed, or inputs that are not integer [B, S] tensors.</exception>
    public static ModelInputs Find(string path, IReadOnlyDictionary<string, NodeMetadata> metadata)
    {
        if (!metadata.ContainsKey(Ids))
        {
            throw new InvalidFileException(path, $"has no input named {Ids} (its inputs: {string.Join(", ", metadata.Keys)}); a causal LM exported as Hugging Face does takes {Ids} [batch, sequence].");
        }

        var inputs = new List<(string, bool)>();
        foreach (var (name, node) in metadata)
        {
            if (name is not (Ids or Mask or Positions))
            {
                throw new InvalidFileException(path, $"needs the input {name}, which is not fed here (only {Ids}, {Mask} and {Positions}); export the model without past key values (e.g. optimum-cli export onnx --task text-generation).");
            }

            if (!node.IsTensor || node.ElementDataType is not (TensorElementType.Int64 or TensorElementType.Int32) || node.Dimensions.Length != 2)
            {
                throw new InvalidFileException(path, $"input {name} is {(node.IsTensor ? $"{node.ElementDataType} of rank {node.Dimensions.Length}" : node.OnnxValueType.ToString())}; expected int64 or int32 [batch, sequence].");
            }

            inputs.Add((name, node.ElementDataType == TensorElementType.Int32));
        }

        return new ModelInputs([.. inputs.OrderBy(i => i.Item1 == Ids ? 0 : 1)]);
    }

    /// <summary>The input tensors for windows starting at <paramref name="windowStarts"/> (each <paramref name="length"/> ids), over arrays reused from call to call.</summary>
    public OrtValue[] Create(ReadOnlySpan<int> ids, IReadOnlyList<long> windowStarts, int length)
    {
        int batch = windowStarts.Count;
        long[] shape = [batch, length];
        var values = new OrtValue[_inputs.Length];
        for (int i = 0; i < _inputs.Length; i++)
        {
            var (name, int32) = _inputs[i];
            values[i] = int32
                ? OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, Fill<int>(name, ids, windowStarts, length, v => v), shape)
                : OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, Fill<long>(name, ids, windowStarts, length, v => v), shape);
        }

        return values;
    }

    private Memory<T> Fill<T>(string name, ReadOnlySpan<int> ids, IReadOnlyList<long> windowStarts, int length, Func<int, T> convert)
    {
        int size = windowStarts.Count * length;
        if (!_arrays.TryGetValue(name, out var array) || array.Length < size)
        {
            _arrays[name] = array = new T[size];
        }

        var values = (T[])array;
        for (int b = 0; b < windowStarts.Count; b++)
        {
            var row = values.AsSpan(b * length, length);
            for (int s = 0; s < length; s++)
            {
                row[s] = convert(name switch
                {
                    Ids => ids[checked((int)windowStarts[b]) + s],
                    Mask => 1,
                    _ => s,
                });
            }
        }

        return values.AsMemory(0, size);
    }
}
