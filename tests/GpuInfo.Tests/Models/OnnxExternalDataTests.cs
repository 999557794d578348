using GpuInfo.Formats;
using GpuInfo.Models;
using GpuInfo.Tests.Formats;

namespace GpuInfo.Tests.Models;

/// <summary>The external data files read from an ONNX model's protobuf, which partials fingerprint.</summary>
public sealed class OnnxExternalDataTests
{
    [Fact]
    public void A_model_with_external_data_names_its_file_once()
    {
        Assert.Equal(["window.onnx_data"], OnnxExternalData.Locations(ModelFiles.Path("external_a/window.onnx")));
    }

    [Theory]
    [InlineData("window.onnx")]
    [InlineData("bigram_merged.onnx")] // an If with subgraphs
    [InlineData("optimum/gpt2_decoder_model_merged.onnx")]
    [InlineData("optimum/llama_gqa_with_past.onnx")]
    public void Models_with_their_weights_inline_have_none(string name) =>
        Assert.Empty(OnnxExternalData.Locations(ModelFiles.Path(name)));

    /// <summary>Hand-made messages whose fields overrun their parent: a tag or a length read past a node's end.</summary>
    [Theory]
    [InlineData(new byte[] { 0x3A, 0x04, 0x0A, 0x01, 0x8A, 0x00 })]
    [InlineData(new byte[] { 0x3A, 0x05, 0x0A, 0x01, 0x8A, 0x00, 0x00 })]
    [InlineData(new byte[] { 0x3A, 0x0D, 0x0A, 0x01, 0x0A, 0xF4, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01 })]
    [InlineData(new byte[] { 0x3A, 0x03, 0x2A, 0x01, 0x70, 0x01 })]
    public void Fields_that_run_past_their_message_are_an_error(byte[] bytes)
    {
        using var dir = new TempDir();
        string path = dir.File("crafted.onnx");
        File.WriteAllBytes(path, bytes);
        Assert.Contains("not an ONNX model", Assert.Throws<InvalidFileException>(() => OnnxExternalData.Locations(path)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(60)]
    [InlineData(500)]
    public void A_damaged_model_is_an_error_naming_it(int keep)
    {
        using var dir = new TempDir();
        string path = dir.File("damaged.onnx");
        byte[] bytes = keep == 0 ? "this is not a protobuf"u8.ToArray() : File.ReadAllBytes(ModelFiles.Path("external_a/window.onnx"))[..keep];
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<InvalidFileException>(() => OnnxExternalData.Locations(path));
        Assert.Equal(path, e.Path);
        Assert.Contains("not an ONNX model", e.Message, StringComparison.Ordinal);
    }
}
