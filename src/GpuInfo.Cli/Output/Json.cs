using System.Text.Json;
using System.Text.Json.Nodes;

namespace GpuInfo.Cli.Output;

/// <summary>JSON output: one object per command; non-finite numbers become null (JSON has no NaN).</summary>
internal static class Json
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <summary>A number, or null where it is NaN (undefined); infinities stay, for text tables to print, until <see cref="Write"/> makes them null.</summary>
    public static JsonNode? Number(double value) => double.IsNaN(value) ? null : JsonValue.Create(value);

    /// <summary>Writes <paramref name="obj"/> with every non-finite number in it as null, wherever a command put one.</summary>
    public static void Write(TextWriter stdout, JsonObject obj)
    {
        Finite(obj);
        stdout.WriteLine(obj.ToJsonString(Indented));
    }

    /// <summary><paramref name="obj"/> on one line (a JSON Lines record), every non-finite number in it as null.</summary>
    public static string Line(JsonObject obj)
    {
        Finite(obj);
        return obj.ToJsonString();
    }

    private static void Finite(JsonNode? node)
    {
        if (node is JsonObject o)
        {
            foreach (string key in o.Select(kv => kv.Key).ToList())
            {
                if (IsNonFinite(o[key]))
                {
                    o[key] = null;
                }
                else
                {
                    Finite(o[key]);
                }
            }
        }
        else if (node is JsonArray a)
        {
            for (int i = 0; i < a.Count; i++)
            {
                if (IsNonFinite(a[i]))
                {
                    a[i] = null;
                }
                else
                {
                    Finite(a[i]);
                }
            }
        }
    }

    private static bool IsNonFinite(JsonNode? node) =>
        node is JsonValue v && ((v.TryGetValue(out double d) && !double.IsFinite(d)) || (v.TryGetValue(out float f) && !float.IsFinite(f)));

    public static JsonObject Device(DeviceReport d) => new()
    {
        ["kind"] = DeviceNames.Kind(d.Kind),
        ["name"] = d.Name,
        ["reason"] = d.Reason,
    };
}
