using ILGPU;

namespace GpuInfo.Backends.Ilgpu;

/// <summary>
/// The two float32 products of an IB pass over one chunk of device-resident p(y|x) rows, with
/// float64 results: by the tiled ILGPU kernel anywhere, or by cuBLAS on CUDA. Launched on the
/// accelerator's default stream; call under the backend's gate.
/// </summary>
internal interface IChunkProducts : IDisposable
{
    /// <summary>For reports: "float32 tiled kernel" or "cuBLAS".</summary>
    string Name { get; }

    /// <summary>cross[r, t] = Σ_y p[r, y]·logDecoder[t, y] (float32 over vocabulary blocks, summed in float64).</summary>
    void Cross(ArrayView<float> p, int rows, ArrayView<float> logDecoder, int clusters, int vocab, ArrayView<double> cross);

    /// <summary>numerator[t, y] += Σ_r weights[r, t]·p[r, y] (float32 over the chunk, added in float64).</summary>
    void Accumulate(ArrayView<float> weights, ArrayView<float> p, int rows, int clusters, int vocab, ArrayView<double> numerator);
}
