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
    public sealed record Entry(string Name, string DTypes, MethodInfo Method, Grouping Grouping);

    /// <summary>How a kernel's groups are sized at launch.</summary>
    public enum Grouping
    {
        /// <summary>Implicitly grouped: ILGPU picks the group size from the device's occupancy for the compiled kernel.</summary>
        Auto,

        /// <summary>In the launch plan's groups (up to <see cref="GroupMerge.MaxGroupSize"/>), compiled with <see cref="LaunchPlan.Specialization"/>.</summary>
        Plan,

        /// <summary>In square tiles of at most 16 x 16 threads: 256 threads can always have the 255 registers a thread may use.</summary>
        Tile,
    }

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
            yield return new("RowStats", name, Generic(typeof(RowStatsKernel), "Run", t, load), Grouping.Plan);
            yield return new("RowFinish", name, Generic(typeof(RowFinishKernel), "Run", t, load), Grouping.Auto);
            yield return new("CrossEntropyGradient", name, Generic(typeof(CrossEntropyGradientKernel), "Run", t, load), Grouping.Plan);
            yield return new("IbRowDistribution", name, Generic(typeof(RowDistributionKernel), "Run", t, load), Grouping.Plan);
        }

        foreach (var (tp, lp, np) in Types)
        {
            foreach (var (tq, lq, nq) in Types)
            {
                string dtypes = $"{np}-{nq}";
                yield return new("PairStats", dtypes, Generic(typeof(PairStatsKernel), "Run", tp, lp, tq, lq), Grouping.Plan);
                yield return new("PairFinish", dtypes, Generic(typeof(PairFinishKernel), "Run", tp, lp, tq, lq), Grouping.Auto);
                yield return new("JensenShannon", dtypes, Generic(typeof(JensenShannonKernel), "Run", tp, lp, tq, lq), Grouping.Plan);
            }
        }

        yield return new("JensenShannonSumSlices", "f32", typeof(JensenShannonKernel).GetMethod(nameof(JensenShannonKernel.SumSlices))!, Grouping.Auto);
        yield return new("ReadSum", "f32", typeof(ReadKernel).GetMethod(nameof(ReadKernel.Sum))!, Grouping.Auto);
        yield return new("MatrixProductBlocked", "f32", typeof(MatrixProductKernel).GetMethod(nameof(MatrixProductKernel.MultiplyTransposedBlocked))!, Grouping.Tile);
        yield return new("MatrixAccumulateTransposedLeft", "f32", typeof(MatrixProductKernel).GetMethod(nameof(MatrixProductKernel.AccumulateTransposedLeft))!, Grouping.Tile);
        yield return new("AddWidened", "f32", typeof(MatrixProductKernel).GetMethod(nameof(MatrixProductKernel.AddWidened))!, Grouping.Auto);
        yield return new("IbDecoderUpdate", "f64", typeof(IbDecoderKernel).GetMethod(nameof(IbDecoderKernel.Update))!, Grouping.Plan);
        yield return new("BlahutArimotoRowDots", "f64", typeof(BlahutArimotoKernel).GetMethod(nameof(BlahutArimotoKernel.RowDots))!, Grouping.Plan);
        yield return new("BlahutArimotoRowDotsWeighted", "f64", typeof(BlahutArimotoKernel).GetMethod(nameof(BlahutArimotoKernel.RowDotsWeighted))!, Grouping.Plan);
        yield return new("BlahutArimotoColumnSums", "f64", typeof(BlahutArimotoKernel).GetMethod(nameof(BlahutArimotoKernel.ColumnSums))!, Grouping.Auto);
        yield return new("BlahutArimotoSumChunks", "f64", typeof(BlahutArimotoKernel).GetMethod(nameof(BlahutArimotoKernel.SumChunks))!, Grouping.Auto);
    }

    private static MethodInfo Generic(Type kernel, string name, params Type[] arguments) =>
        kernel.GetMethod(name, BindingFlags.Public | BindingFlags.Static)!.MakeGenericMethod(arguments);
}
