using System.Text.Json.Nodes;

namespace GpuInfo.Tests.Cli;

/// <summary>
/// `gpuinfo eval` and `compare` on float32 .npy files against PyTorch's float64 results (Golden/,
/// made by make_golden.py with Debian's python3-torch), to 2e-5 relative, on the SIMD CPU path and
/// on the ILGPU kernels (CPU accelerator).
/// </summary>
public sealed class GoldenTests
{
    private const double Relative = 2e-5;

    private static readonly JsonObject Expected = (JsonObject)JsonNode.Parse(File.ReadAllText(CliRunner.Golden("golden.json")))!;

    public static TheoryData<string> Devices => new() { "cpu", "ilgpu-cpu" };

    [Theory]
    [MemberData(nameof(Devices))]
    public void Eval_matches_pytorch(string device)
    {
        Check("eval", CliRunner.Json("eval", "--logits", CliRunner.Golden("base.npy"), "--targets", CliRunner.Golden("targets.npy"), "--device", device));
        Check("eval_smoothing_0.1_temperature_1.5", CliRunner.Json("eval", "--logits", CliRunner.Golden("base.npy"), "--targets", CliRunner.Golden("targets.npy"),
            "--label-smoothing", "0.1", "--temperature", "1.5", "--device", device));
        Check("eval_shift", CliRunner.Json("eval", "--logits", CliRunner.Golden("base.npy"), "--targets", CliRunner.Golden("targets.npy"), "--shift", "--device", device));
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void Compare_matches_pytorch(string device)
    {
        Check("compare", CliRunner.Json("compare", "--base", CliRunner.Golden("base.npy"), "--test", CliRunner.Golden("test.npy"), "--device", device));
        Check("compare_targets_temperature_0.8", CliRunner.Json("compare", "--base", CliRunner.Golden("base.npy"), "--test", CliRunner.Golden("test.npy"),
            "--targets", CliRunner.Golden("targets.npy"), "--temperature", "0.8", "--device", device));
    }

    private static void Check(string name, JsonObject actual)
    {
        foreach (var (key, value) in (JsonObject)Expected[name]!)
        {
            if (value is JsonObject inner)
            {
                foreach (var (k, v) in inner)
                {
                    Close(CliRunner.Number(v), CliRunner.Number(actual[key]![k]), $"{name}.{key}.{k}");
                }
            }
            else if (key is "tokens" or "ignored")
            {
                Assert.Equal(value!.GetValue<long>(), actual[key]!.GetValue<long>());
            }
            else
            {
                Close(CliRunner.Number(value), CliRunner.Number(actual[key]), $"{name}.{key}");
            }
        }
    }

    private static void Close(double expected, double actual, string what) =>
        Assert.True(Math.Abs(actual - expected) <= Relative * Math.Abs(expected) + 1e-12,
            $"{what}: PyTorch {expected:R}, gpuinfo {actual:R} (relative error {Math.Abs(actual - expected) / Math.Abs(expected):E2})");
}
