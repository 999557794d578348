using System.Reflection;
using GpuInfo.Kernels;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace GpuInfo.Backends.Ilgpu;

/// <summary>
/// One kernel compiled to PTX for <paramref name="Target"/>. <paramref name="DeclaredTarget"/> is the
/// <c>.target</c> the PTX states: ILGPU 1.5.3 writes sm_80 for every newer architecture too, which
/// the driver compiles for the device it runs on (PTX is forward compatible).
/// </summary>
public sealed record PtxKernel(string Name, string DTypes, string Target, string DeclaredTarget, string InstructionSet, string Ptx);

/// <summary>
/// Compiles every kernel the CUDA path launches to PTX with ILGPU's PTX backend, without a GPU: the
/// compile errors a first run on a device would hit, found on any machine.
/// </summary>
public static class PtxCompiler
{
    /// <summary>Targets accepted, with the PTX ISA each is compiled with (the first to support it).</summary>
    public static readonly IReadOnlyDictionary<string, string> Targets = new Dictionary<string, string>
    {
        ["sm_80"] = "ISA_70",
        ["sm_90"] = "ISA_78",
        ["sm_100"] = "ISA_86",
        ["sm_120"] = "ISA_87",
    };

    /// <exception cref="ArgumentException">An unknown target.</exception>
    public static IReadOnlyList<PtxKernel> Compile(string target)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (!Targets.TryGetValue(target, out var isaName))
        {
            throw new ArgumentException($"unknown PTX target '{target}'; expected one of {string.Join(", ", Targets.Keys)}.", nameof(target));
        }

        var architecture = (CudaArchitecture)typeof(CudaArchitecture).GetField(target.ToUpperInvariant(), BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        var instructionSet = (CudaInstructionSet)typeof(CudaInstructionSet).GetField(isaName, BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
        CudaLibraries.Register();
        using var context = Context.Create(builder => builder.Cuda().EnableAlgorithms().Optimize(OptimizationLevel.O2));
        using var backend = new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, instructionSet, null);
        var kernels = new List<PtxKernel>();
        foreach (var entry in KernelCatalog.All())
        {
            var description = entry.Grouping == KernelCatalog.Grouping.Auto
                ? EntryPointDescription.FromImplicitlyGroupedKernel(entry.Method)
                : EntryPointDescription.FromExplicitlyGroupedKernel(entry.Method);

            // An H100/H200's plan: groups of GroupMerge.MaxGroupSize (they allow 1024).
            var specialization = entry.Grouping == KernelCatalog.Grouping.Plan ? new KernelSpecialization(GroupMerge.MaxGroupSize, null) : default;
            var compiled = (PTXCompiledKernel)backend.Compile(description, specialization);
            string ptx = compiled.PTXAssembly;
            kernels.Add(new PtxKernel(entry.Name, entry.DTypes, target, Directive(ptx, ".target") ?? "none",
                isaName.Replace("ISA_", string.Empty, StringComparison.Ordinal).Insert(1, "."), ptx));
        }

        return kernels;
    }

    /// <summary>The value of a PTX directive (".version 7.8" gives "7.8" for ".version"), or null.</summary>
    public static string? Directive(string ptx, string name) =>
        ptx.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal))?[name.Length..].Trim();
}
