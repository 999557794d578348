using System.Text.RegularExpressions;
using GpuInfo.Backends.Ilgpu;

namespace GpuInfo.Tests.Kernels;

/// <summary>
/// The row kernels' PTX for sm_90 keeps its wide loads: a 16-byte vector load per input (8 bytes for
/// a 16-bit input beside a float32 one), the gradient's 16-byte store, and nothing spilled to local
/// memory. ILGPU emits a vector load only where it can prove the alignment, so a change that loses
/// the proof fails here, without a GPU.
/// </summary>
public sealed partial class WideLoadPtxTests
{
    private static readonly Lazy<IReadOnlyList<PtxKernel>> Kernels = new(() => PtxCompiler.Compile("sm_90"));

    public static TheoryData<string> ReadingKernels => ["RowStats", "PairStats", "JensenShannon"];

    [Theory]
    [MemberData(nameof(ReadingKernels))]
    public void Every_dtype_reads_16_bytes_a_load(string name)
    {
        var kernels = Kernels.Value.Where(k => k.Name == name).ToList();
        Assert.NotEmpty(kernels);
        foreach (var k in kernels)
        {
            string[] sizes = k.DTypes.Split('-').Select(t => t == "f32" ? "4" : "2").ToArray();
            bool mixed = sizes.Distinct().Count() > 1;
            int v4 = Count(k.Ptx, Vector4Load()), v2 = Count(k.Ptx, Vector2Load());
            string what = $"{k.Name} {k.DTypes}: {v4} ld.global.v4, {v2} ld.global.v2";
            Assert.True(v4 == (mixed ? 1 : sizes.Length), what);
            Assert.True(v2 == (mixed ? 1 : 0), what);
            Assert.DoesNotContain(".local", k.Ptx, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_gradient_reads_wide_and_stores_16_bytes()
    {
        foreach (var k in Kernels.Value.Where(k => k.Name == "CrossEntropyGradient"))
        {
            string what = $"{k.Name} {k.DTypes}";
            Assert.True(Count(k.Ptx, Vector4Store()) == 1, what + ": no st.global.v4");
            Assert.True(Count(k.Ptx, k.DTypes == "f32" ? Vector4Load() : Vector2Load()) == 1, what + ": no wide load");
            Assert.DoesNotContain(".local", k.Ptx, StringComparison.Ordinal);
        }
    }

    private static int Count(string ptx, Regex pattern) => pattern.Matches(ptx).Count;

    [GeneratedRegex(@"\bld\.global\.v4\.(b32|f32|u32)\b")]
    private static partial Regex Vector4Load();

    [GeneratedRegex(@"\bld\.global\.v2\.(b32|f32|u32)\b")]
    private static partial Regex Vector2Load();

    [GeneratedRegex(@"\bst\.global\.v4\.(b32|f32|u32)\b")]
    private static partial Regex Vector4Store();
}
