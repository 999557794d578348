using GpuInfo.Models;

namespace GpuInfo.Tests.Models;

/// <summary>The CPU provider's default thread count: one per physical core the process may run on.</summary>
public sealed class PhysicalCoresTests
{
    [Theory]
    [InlineData("0-3", 8, 2)]          // two cores of two hyperthreads each
    [InlineData("0,2", 8, 1)]          // both siblings of core 0
    [InlineData("0-1, 4", 8, 3)]       // spaces, and a CPU on the second package
    [InlineData("0-7", 8, 4)]          // cores on two packages with the same core ids
    [InlineData("0-7", 3, 3)]          // a CPU quota below the cores
    [InlineData("5", 8, 1)]
    public void Hyperthread_siblings_count_once_and_the_count_stays_within_the_processor_count(string allowed, int processorCount, int expected)
    {
        // CPUs 0-3: package 0, cores 0,1,0,1 (siblings 0/2 and 1/3); CPUs 4-7: package 1, the same core ids.
        Assert.Equal(expected, PhysicalCores.Count(allowed, cpu => $"{cpu / 4}:{cpu % 2}", processorCount));
    }

    [Theory]
    [InlineData("")]
    [InlineData("3-1")]
    [InlineData("0-x")]
    [InlineData("1-2-3")]
    [InlineData("-1")]
    public void A_list_that_does_not_parse_gives_no_count(string allowed)
    {
        Assert.Null(PhysicalCores.Count(allowed, cpu => $"0:{cpu}", 8));
    }

    [Fact]
    public void A_cpu_without_a_topology_gives_no_count()
    {
        Assert.Null(PhysicalCores.Count("0-3", cpu => cpu == 2 ? null : $"0:{cpu}", 8));
    }

    [Fact]
    public void On_linux_this_machine_has_between_one_and_processor_count_cores()
    {
        Assert.SkipUnless(OperatingSystem.IsLinux(), "the core count is read on Linux only");
        int? count = PhysicalCores.Count();
        Assert.NotNull(count);
        Assert.InRange(count.Value, 1, Environment.ProcessorCount);
    }

    [Fact]
    public void The_cpu_provider_says_how_many_threads_run_the_model()
    {
        using var model = OnnxLanguageModel.Open(ModelFiles.Path("bigram.onnx"), new OnnxModelOptions { ExecutionProvider = "cpu", Threads = 3 });
        Assert.Equal("cpu (3 threads)", model.Provider);
        using var counted = OnnxLanguageModel.Open(ModelFiles.Path("bigram.onnx"), new OnnxModelOptions { ExecutionProvider = "cpu" });
        Assert.Equal(PhysicalCores.Count() is { } n ? (n == 1 ? "cpu (1 thread)" : $"cpu ({n} threads)") : "cpu (ONNX Runtime's default threads)", counted.Provider);
    }
}
