using System.Text.RegularExpressions;
using GpuInfo.Backends.Ilgpu;

namespace GpuInfo.Tests.Kernels;

/// <summary>
/// No kernel adds floating-point values with atomics, whose order (and so whose last bits) a GPU
/// leaves to the warps' timing: group sums go through <c>GroupMerge.OrderedSum</c> (each warp's
/// shuffle tree, then the warps in order). Integer counts may use atomics (exact in any order), and
/// the float max its compare-and-swap loop (the same max in any order).
/// </summary>
public sealed partial class OrderedSumPtxTests
{
    [Fact]
    public void No_kernel_adds_floats_atomically()
    {
        var kernels = PtxCompiler.Compile("sm_90");
        Assert.NotEmpty(kernels);
        foreach (var k in kernels)
        {
            var atomics = FloatAtomic().Matches(k.Ptx).Select(m => m.Value).Distinct().ToList();
            Assert.True(atomics.Count == 0, $"{k.Name} {k.DTypes}: {string.Join(", ", atomics)}");
        }
    }

    [GeneratedRegex(@"\b(red|atom)(\.[a-z]+)*\.add(\.[a-z]+)*\.f(16|32|64)\b")]
    private static partial Regex FloatAtomic();
}
