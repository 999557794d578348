using GpuInfo.Formats;
using Microsoft.ML.OnnxRuntime;

namespace GpuInfo.Models;

/// <summary>
/// Creates the ONNX Runtime session on the provider asked for: CUDA when it loads (with
/// Microsoft.ML.OnnxRuntime.Gpu in place of the CPU package), else the CPU with the reason.
/// </summary>
internal static class ExecutionProviders
{
    /// <param name="path">What errors call the model (its file).</param>
    /// <param name="bytes">The model itself, or null to read it from <paramref name="path"/>.</param>
    public static (InferenceSession Session, string Provider) CreateSession(string path, byte[]? bytes, OnnxModelOptions options)
    {
        string? cudaProblem = null;
        if (options.ExecutionProvider != "cpu")
        {
            var cuda = NewOptions(options);
            try
            {
                cuda.AppendExecutionProvider_CUDA(options.CudaDevice);
                return (Open(path, bytes, cuda), $"cuda:{options.CudaDevice}");
            }
            catch (Exception e) when (e is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                cuda.Dispose();
                cudaProblem = "CUDA provider unavailable: " + (e is EntryPointNotFoundException
                    ? "this ONNX Runtime build has none (deploy Microsoft.ML.OnnxRuntime.Gpu in place of Microsoft.ML.OnnxRuntime)"
                    : FirstLine(e.Message));
                if (options.ExecutionProvider == "cuda")
                {
                    throw new DeviceUnavailableException($"{path}: {cudaProblem}");
                }
            }
        }

        var cpu = NewOptions(options);
        return (Open(path, bytes, cpu), cudaProblem is null ? "cpu" : $"cpu ({cudaProblem})");
    }

    private static SessionOptions NewOptions(OnnxModelOptions options)
    {
        // ONNX Runtime would also log its errors to stderr; they reach the caller as exceptions (one line in the CLI).
        var session = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        if (options.Threads > 0)
        {
            session.IntraOpNumThreads = options.Threads;
        }

        return session;
    }

    private static InferenceSession Open(string path, byte[]? bytes, SessionOptions options)
    {
        try
        {
            return bytes is null ? new InferenceSession(path, options) : new InferenceSession(bytes, options);
        }
        catch (OnnxRuntimeException e)
        {
            throw new InvalidFileException(path, $"not an ONNX model ONNX Runtime can load: {FirstLine(e.Message)}");
        }
        finally
        {
            options.Dispose();
        }
    }

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();
}
