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
            var cuda = NewOptions(options.Threads > 0 ? options.Threads : null);
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

        int? threads = options.Threads > 0 ? options.Threads : PhysicalCores.Count();
        var cpu = NewOptions(threads);

        // The measures run on the same cores between the model's runs (ModelRowSource.ReadAhead is
        // false on the CPU): ONNX Runtime's operator threads, spinning on after a run, took a core
        // from them (39k tokens at 32k vocabulary, 2 cores: time outside the model 0.52-0.55 s
        // spinning, 0.38 s not, the model's own time the same).
        cpu.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        string how = threads is null ? "ONNX Runtime's default threads" : threads == 1 ? "1 thread" : $"{threads} threads";
        return (Open(path, bytes, cpu), cudaProblem is null ? $"cpu ({how})" : $"cpu ({how}; {cudaProblem})");
    }

    /// <param name="threads">The operators' threads, or null for ONNX Runtime's default.</param>
    private static SessionOptions NewOptions(int? threads)
    {
        // ONNX Runtime would also log its errors to stderr; they reach the caller as exceptions (one line in the CLI).
        var session = new SessionOptions { GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL, LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
        if (threads is not null)
        {
            session.IntraOpNumThreads = threads.Value;
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
