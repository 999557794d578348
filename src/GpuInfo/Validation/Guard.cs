using System.Diagnostics.CodeAnalysis;

namespace GpuInfo;

/// <summary>Argument checks that throw exceptions naming the parameter and the problem.</summary>
internal static class Guard
{
    public static void Vocab(int vocab, string name = "vocab")
    {
        if (vocab < 1)
        {
            Throw(name, $"vocab must be at least 1, got {vocab}.");
        }
    }

    public static void Temperature(float temperature, string name = "temperature")
    {
        if (!(temperature > 0f) || float.IsInfinity(temperature))
        {
            Throw(name, $"temperature must be finite and > 0, got {temperature}.");
        }
    }

    public static void Length<T>(Span<T> destination, long rows, string name)
    {
        if (destination.Length != rows)
        {
            Throw(name, $"expected one value per row ({rows}), got a span of {destination.Length}.");
        }
    }

    public static void OptionalLength<T>(Span<T> destination, long rows, string name)
    {
        if (!destination.IsEmpty || rows == 0)
        {
            Length(destination, rows, name);
        }
    }

    public static void SameShape(in Logits p, in Logits q, string name = "q")
    {
        if (p.Vocab != q.Vocab || p.Rows != q.Rows)
        {
            Throw(name, $"shape [{q.Rows}, {q.Vocab}] differs from the base logits' [{p.Rows}, {p.Vocab}].");
        }
    }

    /// <summary>The row count as an int: per-row outputs are spans, so one call takes at most int.MaxValue rows.</summary>
    public static int RowsFitInt(long rows, string name)
    {
        if (rows > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(name, $"at most {int.MaxValue} rows per call (per-row outputs are spans); got {rows}.");
        }

        return (int)rows;
    }

    [DoesNotReturn]
    public static void Throw(string name, string problem) => throw new ArgumentException(problem, name);

    /// <summary>Two outputs given the same memory: each would overwrite the other.</summary>
    public static void Apart(ReadOnlySpan<byte> a, string aName, ReadOnlySpan<byte> b, string bName)
    {
        if (!a.IsEmpty && !b.IsEmpty && a.Overlaps(b))
        {
            Throw(bName, $"{aName} and {bName} share memory: each output needs its own.");
        }
    }
}
