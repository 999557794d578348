using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GpuInfo.Models;

/// <summary>
/// The keys and values one run of a window left in a model's KV cache (its <c>present.*</c> outputs, written here), kept so
/// that later windows beginning with the same tokens are fed the first of them as their past and run only the tokens
/// after: a multiple-choice document's context is run once, not once per choice, as llama.cpp evaluates a task's common
/// prefix once.
/// </summary>
internal sealed class KeyValueCache : IDisposable
{
    private readonly IReadOnlyList<Port> _ports;
    private readonly OrtValue[] _presents;

    /// <summary>A past input and the output that gives it back: [batch, <see cref="Heads"/>, sequence, <see cref="HeadSize"/>] of <see cref="Type"/>.</summary>
    public readonly record struct Port(string Past, string Present, TensorElementType Type, int Heads, int HeadSize);

    /// <param name="tokens">The window's tokens (from its position 0), run in a batch of one (after a past, whose keys and values its run gives back too).</param>
    /// <param name="window">The window whose run fills it (for the caller).</param>
    public KeyValueCache(IReadOnlyList<Port> ports, int[] tokens, int window)
    {
        _ports = ports;
        Tokens = tokens;
        Window = window;
        _presents = new OrtValue[ports.Count];
        try
        {
            for (int i = 0; i < ports.Count; i++)
            {
                _presents[i] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, ports[i].Type, [1, ports[i].Heads, tokens.Length, ports[i].HeadSize]);
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The window whose run fills the cache.</summary>
    public int Window { get; }

    /// <summary>The tokens whose keys and values the cache holds, from position 0.</summary>
    public int[] Tokens { get; }

    /// <summary>The outputs a run writes them to, in the order of <see cref="ModelInputs.PastPorts"/>.</summary>
    public IReadOnlyList<string> PresentNames => [.. _ports.Select(p => p.Present)];

    public IReadOnlyList<OrtValue> Presents => _presents;

    /// <summary>The first <paramref name="length"/> tokens' keys and values, as the past of each of <paramref name="batch"/> windows.</summary>
    public Feed Past(int length, int batch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Tokens.Length);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        var values = new OrtValue[_ports.Count];
        try
        {
            for (int i = 0; i < _ports.Count; i++)
            {
                var port = _ports[i];
                values[i] = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, port.Type, [batch, port.Heads, length, port.HeadSize]);
                int element = port.Type == TensorElementType.Float ? 4 : 2;
                int from = Tokens.Length * port.HeadSize * element, to = length * port.HeadSize * element;
                var source = _presents[i].GetTensorMutableRawData();
                var target = values[i].GetTensorMutableRawData();
                for (int b = 0; b < batch; b++)
                {
                    for (int h = 0; h < port.Heads; h++)
                    {
                        source.Slice(h * from, to).CopyTo(target.Slice(((b * port.Heads) + h) * to, to));
                    }
                }
            }
        }
        catch
        {
            foreach (var value in values)
            {
                value?.Dispose();
            }

            throw;
        }

        return new Feed(values, length);
    }

    public void Dispose()
    {
        foreach (var value in _presents)
        {
            value?.Dispose();
        }
    }

    /// <summary>A past fed to a run: a value for each past input, in order, <see cref="Length"/> tokens long.</summary>
    public sealed class Feed(OrtValue[] values, int length) : IDisposable
    {
        public IReadOnlyList<OrtValue> Values => values;

        public int Length => length;

        public void Dispose()
        {
            foreach (var value in values)
            {
                value.Dispose();
            }
        }
    }
}
