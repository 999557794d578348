using System.Text.Json;
using System.Text.Json.Nodes;

namespace GpuInfo.Cli.Output;

/// <summary>JSON output: one object per command; non-finite numbers become null (JSON has no NaN).</summary>
internal static class Json
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static JsonNode? Number(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    public static void Write(TextWriter stdout, JsonObject obj) => stdout.WriteLine(obj.ToJsonString(Indented));

    public static JsonObject Device(DeviceReport d) => new()
    {
        ["kind"] = d.Kind.ToString().ToLowerInvariant(),
        ["name"] = d.Name,
        ["reason"] = d.Reason,
    };
}
