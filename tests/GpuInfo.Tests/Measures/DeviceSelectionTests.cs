namespace GpuInfo.Tests.Measures;

[Collection(nameof(EnvironmentVariableCollection))]
public sealed class DeviceSelectionTests
{
    [Theory]
    [InlineData("auto", null, null)]
    [InlineData("CPU", DeviceKind.Cpu, null)]
    [InlineData(" ilgpu-cpu ", DeviceKind.IlgpuCpu, null)]
    [InlineData("cuda", DeviceKind.Cuda, null)]
    [InlineData("opencl", DeviceKind.OpenCL, null)]
    [InlineData("2", null, 2)]
    public void Requests_parse(string text, DeviceKind? kind, int? index)
    {
        var r = DeviceRequest.Parse(text, "test");
        Assert.Equal(kind, r.Kind);
        Assert.Equal(index, r.Index);
    }

    [Theory]
    [InlineData("tpu")]
    [InlineData("-1")]
    [InlineData("gpu0")]
    public void Bad_requests_are_argument_errors(string text) =>
        Assert.Equal("options", Assert.Throws<ArgumentException>(() => DeviceRequest.Parse(text, "test")).ParamName);

    [Fact]
    public void The_option_wins_over_the_environment_which_wins_over_the_default()
    {
        string? saved = Environment.GetEnvironmentVariable(DeviceRequest.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(DeviceRequest.EnvironmentVariable, "ilgpu-cpu");
            Assert.Equal(("ilgpu-cpu", DeviceRequest.EnvironmentVariable), (DeviceRequest.Resolve(null).Text, DeviceRequest.Resolve(null).Source));
            Assert.Equal(("cpu", "option"), (DeviceRequest.Resolve("cpu").Text, DeviceRequest.Resolve("cpu").Source));
            using (var engine = new InfoEngine())
            {
                Assert.Equal(DeviceKind.IlgpuCpu, engine.Device.Kind);
                Assert.Equal(DeviceRequest.EnvironmentVariable, engine.Device.RequestSource);
            }

            Environment.SetEnvironmentVariable(DeviceRequest.EnvironmentVariable, null);
            Assert.Equal(("auto", "default"), (DeviceRequest.Resolve(null).Text, DeviceRequest.Resolve(null).Source));
        }
        finally
        {
            Environment.SetEnvironmentVariable(DeviceRequest.EnvironmentVariable, saved);
        }
    }

    [Fact]
    public void Auto_reports_its_choice_and_the_devices_it_skipped()
    {
        using var engine = new InfoEngine(new InfoEngineOptions { Device = "auto" });
        var report = engine.Device;
        Assert.False(string.IsNullOrWhiteSpace(report.Reason));
        Assert.NotEmpty(report.Candidates);
        Assert.Contains(report.Candidates, c => c.Kind == DeviceKind.IlgpuCpu);
        Assert.All(report.Candidates.Where(c => !c.Usable), c => Assert.False(string.IsNullOrWhiteSpace(c.Note)));
        if (report.Kind == DeviceKind.Cpu)
        {
            Assert.DoesNotContain(report.Candidates, c => c.Usable && c.Kind is DeviceKind.Cuda or DeviceKind.OpenCL);
        }
    }

    [Fact]
    public void Explicit_cpu_probes_nothing_and_an_absent_index_is_a_device_error()
    {
        using var cpu = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        Assert.Equal(DeviceKind.Cpu, cpu.Device.Kind);
        Assert.Empty(cpu.Device.Candidates);
        var e = Assert.Throws<DeviceUnavailableException>(() => new InfoEngine(new InfoEngineOptions { Device = "999" }));
        Assert.Contains("999", e.Message, StringComparison.Ordinal);
        Assert.NotEmpty(InfoEngine.ProbeDevices());
    }

    [Fact]
    public void A_disposed_engine_refuses_work()
    {
        var engine = new InfoEngine(new InfoEngineOptions { Device = "cpu" });
        engine.Dispose();
        Assert.Throws<ObjectDisposedException>(() => engine.LogSumExp(Logits.Float32([1f, 2f], 2), new float[1]));
    }
}

/// <summary>Tests that set GPUINFO_DEVICE must not run beside each other.</summary>
[CollectionDefinition(nameof(EnvironmentVariableCollection), DisableParallelization = true)]
public sealed class EnvironmentVariableCollection;
