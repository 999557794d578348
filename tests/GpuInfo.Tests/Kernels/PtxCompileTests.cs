using GpuInfo.Backends.Ilgpu;

namespace GpuInfo.Tests.Kernels;

/// <summary>
/// Every kernel the CUDA path launches, in every dtype specialisation, compiles to PTX with ILGPU's
/// PTX backend, no GPU needed: a compile error here is one a first run on a device would have hit.
/// </summary>
public sealed class PtxCompileTests
{
    [Theory]
    [InlineData("sm_80", "7.0")]
    [InlineData("sm_90", "7.8")]
    public void Every_kernel_compiles_to_ptx(string target, string version)
    {
        var kernels = PtxCompiler.Compile(target);
        Assert.Equal(KernelCatalog.All().Count(), kernels.Count);
        Assert.Equal(kernels.Count, kernels.Select(k => (k.Name, k.DTypes)).Distinct().Count());
        foreach (var k in kernels)
        {
            Assert.True(k.Ptx.Contains(".entry", StringComparison.Ordinal), $"{k.Name} {k.DTypes}: no .entry in its PTX");
            // ILGPU 1.5.3 declares sm_80 for newer architectures as well (forward-compatible PTX).
            Assert.True(k.DeclaredTarget is "sm_80" || k.DeclaredTarget == target, $"{k.Name} {k.DTypes}: declares .target {k.DeclaredTarget}");
            Assert.Equal(version, PtxCompiler.Directive(k.Ptx, ".version"));
        }

        Assert.Contains(kernels, k => k.Name == "PairStats" && k.DTypes == "bf16-f16");
    }

    [Fact]
    public void The_cli_writes_one_ptx_file_per_kernel_and_a_catalog()
    {
        using var dir = new Formats.TempDir();
        var report = Cli.CliRunner.Json("kernels", "--ptx", "sm_90", "--out", dir.Path);
        int count = report["kernels"]!.GetValue<int>();
        Assert.Equal(count, Directory.GetFiles(dir.Path, "*.ptx").Length);
        var catalog = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "kernels.json")))!;
        Assert.Equal(count, catalog["kernels"]!.AsArray().Count);
        Assert.Equal("7.8", catalog["kernels"]![0]!["ptx_isa"]!.GetValue<string>());
    }

    [Fact]
    public void An_unknown_target_is_refused() =>
        Assert.Equal("target", Assert.Throws<ArgumentException>(() => PtxCompiler.Compile("sm_42")).ParamName);
}
