using System.Text.RegularExpressions;
using GpuInfo.Backends.Ilgpu;

namespace GpuInfo.Tests.Kernels;

/// <summary>
/// ILGPU.Algorithms merges a group's float maxima with a compare-and-swap loop in shared memory whose
/// exit test is float equality, so a -0 and a +0 (equal as floats, different bits) let a larger value
/// racing them be dropped. <c>GroupMerge.Max</c> turns zeros into +0 first; this checks in the sm_90
/// PTX, without a GPU, that every such loop is fed by that select (ILGPU folds the shorter x + 0 away).
/// </summary>
public sealed partial class FloatMaxPtxTests
{
    [Fact]
    public void Every_float_max_merge_takes_its_zeros_as_plus_zero()
    {
        var kernels = PtxCompiler.Compile("sm_90").Where(k => k.Ptx.Contains("atom.cas.shared.b32", StringComparison.Ordinal)).ToList();
        Assert.Contains(kernels, k => k.Name == "RowStats");
        Assert.Contains(kernels, k => k.Name == "PairStats");
        foreach (var k in kernels)
        {
            int loops = Regex.Matches(k.Ptx, @"\batom\.cas\.shared\.b32\b").Count;
            int zeroed = ZeroToPlusZero().Matches(k.Ptx).Count;
            Assert.True(zeroed == loops, $"{k.Name} {k.DTypes}: {loops} compare-and-swap loops, {zeroed} zero selects");
        }
    }

    // setp.eq.f32 %p, %f, 0f00000000; selp.b32 %g, 0f00000000, %f, %p: x == 0 ? +0 : x
    [GeneratedRegex(@"setp\.eq\.f32\s+(%p\d+), (%f\d+), 0f00000000;\s*\n\s*selp\.b32\s+%f\d+, 0f00000000, \2, \1;")]
    private static partial Regex ZeroToPlusZero();
}
