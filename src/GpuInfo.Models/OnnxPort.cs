namespace GpuInfo.Models;

/// <summary>
/// One input or output of an ONNX model as <see cref="OnnxLanguageModel"/> sees it: its name, element
/// type, shape (a number, or the name of a free axis, "?" where unnamed), and what gpuinfo feeds it
/// (an input) or reads from it (the logits; null for outputs it leaves alone).
/// </summary>
public sealed record OnnxPort(string Name, string DType, IReadOnlyList<string> Shape, string? Use);
