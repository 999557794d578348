using System.Text.Json.Nodes;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Cli;

/// <summary>The verbs read torch.save files as they read the same tensors from .npy, and refuse the ones they cannot read in one line.</summary>
public sealed class TorchCliTests
{
    private const int Data = 3;

    private static string F(string name) => TorchFormatTests.Fixture(name);

    [Fact]
    public void Eval_of_a_pt_dict_reports_what_eval_of_the_npy_files_does()
    {
        var pt = CliRunner.Json("eval", "--logits", F("dict.pt"), "--tensor", "logits", "--targets", F("dict.pt"), "--targets-tensor", "labels", "--device", "cpu");
        var npy = CliRunner.Json("eval", "--logits", F("dict.logits.npy"), "--targets", F("dict.labels.npy"), "--device", "cpu");
        Same(npy, pt);
        Assert.Equal(4, CliRunner.Number(pt["tokens"]));
    }

    [Fact]
    public void Compare_of_pt_files_reports_what_compare_of_the_npy_files_does()
    {
        // zip64.pt holds dict.pt's records, rewritten with ZIP64 structures.
        var pt = CliRunner.Json("compare", "--base", F("dict.pt"), "--test", F("zip64.pt"), "--tensor", "logits", "--targets", F("dict.labels.npy"), "--device", "cpu");
        var npy = CliRunner.Json("compare", "--base", F("dict.logits.npy"), "--test", F("dict.logits.npy"), "--targets", F("dict.labels.npy"), "--device", "cpu");
        Same(npy, pt);
        Assert.Equal(0, CliRunner.Number(pt["mean_kld"]));
    }

    [Theory]
    [InlineData("module.pt", null, "holds a torch.nn.modules.linear.Linear (unsupported); save a tensor or a dict of tensors")]
    [InlineData("custom.pt", null, "holds a __main__.Custom (unsupported)")]
    [InlineData("legacy.pt", null, "legacy torch.save format")]
    [InlineData("noncontiguous.pt", "logits", "tensor 'logits' is a non-contiguous view (shape [6, 37], strides [1, 6]); save it with .contiguous()")]
    [InlineData("dict.pt", null, "holds 2 tensors (logits, labels); pick one with --tensor NAME")]
    [InlineData("dict.pt", "labels", "logits must be floating point")]
    [InlineData("uint8.pt", "mask", "tensor 'mask' has dtype uint8")]
    public void Unreadable_pt_files_fail_with_one_line(string file, string? tensor, string problem)
    {
        string[] args = ["eval", "--logits", F(file), "--targets", F("dict.labels.npy"), "--device", "cpu"];
        CliRunner.Fails(Data, [file, problem], tensor is null ? args : [.. args, "--tensor", tensor]);
    }

    [Fact]
    public void An_unknown_extension_names_the_ones_read() =>
        CliRunner.Fails(Data, ["model.pth", "unknown extension '.pth'; expected .npy, .safetensors or .pt (torch.save)"], "eval", "--logits", "model.pth", "--targets", F("dict.labels.npy"));

    /// <summary>Every field but the run's time.</summary>
    private static void Same(JsonObject expected, JsonObject actual)
    {
        expected.Remove("seconds");
        actual.Remove("seconds");
        Assert.Equal(expected.ToJsonString(), actual.ToJsonString());
    }
}
