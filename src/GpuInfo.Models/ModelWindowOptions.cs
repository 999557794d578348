namespace GpuInfo.Models;

/// <summary>How a model scores a text (<see cref="ModelWindows"/>): the protocol, the window, the stride and how many windows go through the model at once.</summary>
public sealed record ModelWindowOptions
{
    /// <summary>Sliding windows (the Hugging Face guide, default), rolling ones (lm-evaluation-harness) or chunks (llama.cpp).</summary>
    public WindowProtocol Protocol { get; init; } = WindowProtocol.Sliding;

    /// <summary>Tokens per window (the model's context; default 1024).</summary>
    public int Context { get; init; } = 1024;

    /// <summary>Tokens between window starts, 1 to <see cref="Context"/> (default 512; sliding windows only).</summary>
    public int Stride { get; init; } = 512;

    /// <summary>Windows per model run (default 1). Logits of a batch are held in memory: batch × context × vocabulary values (fewer windows or tokens where the text has fewer), which must fit in the machine's memory.</summary>
    public int Batch { get; init; } = 1;

    internal void Validate()
    {
        if (Context < 2)
        {
            throw new ArgumentOutOfRangeException(nameof(Context), Context, "a window needs at least 2 tokens.");
        }

        if (Protocol == WindowProtocol.Sliding && (Stride < 1 || Stride > Context))
        {
            throw new ArgumentOutOfRangeException(nameof(Stride), Stride, $"the stride must be from 1 to the context ({Context}); a larger one would skip tokens.");
        }

        if (!Enum.IsDefined(Protocol))
        {
            throw new ArgumentOutOfRangeException(nameof(Protocol), Protocol, "not a window protocol.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(Batch, 1);
    }
}
