using System.Reflection;
using GpuInfo.Kernels;

namespace GpuInfo.Backends.Ilgpu;

/// <summary>
/// Every kernel entry point the accelerator backend launches, with each dtype specialisation it
/// launches (single-input kernels per logits dtype, pair kernels per (base, test) dtype pair), for
/// compiling them ahead of time (<see cref="PtxCompiler"/>). Keep in step with
/// <see cref="SingleKernels{T, TLoad}"/>, <see cref="PairKernels{TP, TLP, TQ, TLQ}"/>, the
/// backend's other loads and the IB products' (<see cref="IlgpuIbProducts"/>,
/// <see cref="IlgpuConditionalIbProducts"/>, <see cref="IlgpuIbDecoder"/>, <see cref="IlgpuBlahutArimotoPass"/>, <see cref="TiledChunkProducts"/>, <see cref="CuBlasChunkProducts"/>).
/// </summary>
internal static class KernelCatalog
{
    /// <summary>One entry point: its name, the dtypes it is specialised for, the method, and how it is launched.</summary>
    public sealed record Entry(string Name, string DTypes, MethodInfo Method, bool ExplicitlyGrouped);

    private static readonly (Type Element, Type Loader, string Name)[] Types =
    [
        (typeof(float), typeof(Float32Loader), "f32"),
        (typeof(ILGPU.Half), typeof(Float16Loader), "f16"),
        (typeof(ushort), typeof(BFloat16Loader), "bf16"),
    ];

    public static IEnumerable<Entry> All()
    {
        foreach (var (t, load, name) in Types)
        {
            yield return new("RowStats", name, Generic(typeof(RowStatsKernel), "Run", t, load), true);
            yield return new("RowFinish", name, Generic(typeof(RowFinishKernel), "Run", t, load), false);
            yield return new("CrossEntropyGradient", name, Generic(typeof(CrossEntropyGradientKernel), "Run", t, load), true);
            yield return new("IbRowDistribution", name, Generic(typeof(RowDistributionKernel), "Run", t, load), true);
        }

        foreach (var (tp, lp, np) in Types)
        {
            foreach (var (tq, lq, nq) in Types)
            {
                string dtypes = $"{np}-{nq}";
                yield return new("PairStats", dtypes, Generic(typeof(PairStatsKernel), "Run", tp, lp, tq, lq), true);
                yield return new("PairFinish", dtypes, Generic(typeof(PairFinishKernel), "Run", tp, lp, tq, lq), false);
                yield return new("JensenShannon", dtypes, Generic(typeof(JensenShannonKernel), "Run", tp, lp, tq, lq), true);
            }
        }

        yield return new("JensenShannonSumSlices", "f32", typeof(JensenShannonKernel).GetMethod(nameof(JensenShannonKernel.SumSlices))!, false);
        yield return new("ReadSum", "f32", typeof(ReadKernel).GetMethod(nameof(ReadKernel.Sum))!, false);
        yield return new("MatrixProductBlocked", "f32", typeof(MatrixProductKernel).GetMethod(nameof(MatrixProductKernel.MultiplyTransposedBlocked))!, true);
        yield return new("MatrixAccumulateTransposedLeft", "f32", typeof(MatrixProductKernel).GetMethod(nameof(MatrixProductKernel.AccumulateTransposedLeft))!, true);
        yield return new("AddWidened", "f32", typeof(MatrixProductKernel).GetMethod(nameof(MatrixProductKernel.AddWidened))!, false);
        yield return new("IbDecoderUpdate", "f64", typeof(IbDecoderKernel).GetMethod(nameof(IbDecoderKernel.Update))!, true);
        yield return new("BlahutArimotoRowDots", "f64", typeof(BlahutArimotoKernel).GetMethod(nameof(BlahutArimotoKernel.RowDots))!, true);
        yield return new("BlahutArimotoRowDotsWeighted", "f64", typeof(BlahutArimotoKernel).GetMethod(nameof(BlahutArimotoKernel.RowDotsWeighted))!, true);
        yield return new("BlahutArimotoColumnSums", "f64", typeof(BlahutArimotoKernel).GetMethod(nameof(BlahutArimotoKernel.ColumnSums))!, false);
        yield return new("BlahutArimotoSumChunks", "f64", typeof(BlahutArimotoKernel).GetMethod(nameof(BlahutArimotoKernel.SumChunks))!, false);
    }

    private static MethodInfo Generic(Type kernel, string name, params Type[] arguments) =>
        kernel.GetMethod(name, BindingFlags.Public | BindingFlags.Static)!.MakeGenericMethod(arguments);
}
