namespace GpuInfo.Corpus;

/// <summary>How <see cref="FileRowSource.Open"/> reads its files.</summary>
public sealed record FileRowSourceOptions
{
    /// <summary>The tensor inside a .safetensors or .pt logits file (default: the only one).</summary>
    public string? LogitsTensor { get; init; }

    /// <summary>The tensor inside a .safetensors or .pt targets file (default: the only one).</summary>
    public string? TargetsTensor { get; init; }

    /// <summary>
    /// Optional per-token byte counts, same shape as the targets (int32/int64): the bytes of text
    /// each token stands for, read as the targets are (shifted with them), for bits per byte.
    /// </summary>
    public string? TargetBytesPath { get; init; }

    /// <summary>Score position t of each sequence against the target at t + 1 (causal LM); the last position scores nothing.</summary>
    public bool Shift { get; init; }
}
