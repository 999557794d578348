namespace GpuInfo.Models;

/// <summary>How ONNX Runtime runs a model: which execution provider, and with how many threads.</summary>
public sealed record OnnxModelOptions
{
    /// <summary>
    /// "auto" (the default): CUDA when ONNX Runtime's CUDA provider loads (the
    /// Microsoft.ML.OnnxRuntime.Gpu package and a GPU), else the CPU, saying why; "cuda": CUDA or
    /// <see cref="DeviceUnavailableException"/>; "cpu": the CPU.
    /// </summary>
    public string ExecutionProvider { get; init; } = "auto";

    /// <summary>The CUDA device for the CUDA provider.</summary>
    public int CudaDevice { get; init; }

    /// <summary>
    /// Threads of the CPU provider's operators (0: one per physical core this process may run on,
    /// counted on Linux; ONNX Runtime's own default elsewhere). <see cref="OnnxLanguageModel.Provider"/> says how many ran.
    /// </summary>
    public int Threads { get; init; }

    internal void Validate()
    {
        if (ExecutionProvider is not ("auto" or "cuda" or "cpu"))
        {
            throw new ArgumentOutOfRangeException(nameof(ExecutionProvider), ExecutionProvider, "the execution provider is auto, cuda or cpu.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(CudaDevice);
        ArgumentOutOfRangeException.ThrowIfNegative(Threads);
    }
}
