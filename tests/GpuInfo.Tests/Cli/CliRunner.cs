using System.Text.Json.Nodes;

namespace GpuInfo.Tests.Cli;

/// <summary>Runs gpuinfo in-process and captures its exit code and both streams.</summary>
internal static class CliRunner
{
    public static (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = GpuInfo.Cli.Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs with --json, asserts success, and parses the one JSON object on stdout.</summary>
    public static JsonObject Json(params string[] args)
    {
        var (code, stdout, stderr) = Run([.. args, "--json"]);
        Assert.True(code == 0, $"gpuinfo {string.Join(' ', args)} exited {code}: {stderr}");
        return (JsonObject)JsonNode.Parse(stdout)!;
    }

    /// <summary>Asserts that gpuinfo fails with <paramref name="code"/>, nothing on stdout and one "gpuinfo: " line on stderr holding every fragment (no stack trace).</summary>
    public static void Fails(int code, string[] fragments, params string[] args)
    {
        var (actual, stdout, stderr) = Run(args);
        Assert.True(code == actual, $"expected exit {code}, got {actual}; stderr: {stderr}");
        Assert.Equal(string.Empty, stdout);
        var lines = stderr.TrimEnd().Split('\n');
        Assert.True(lines.Length == 1, $"expected one line on stderr, got: {stderr}");
        Assert.StartsWith("gpuinfo: ", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        foreach (var f in fragments)
        {
            Assert.Contains(f, stderr, StringComparison.Ordinal);
        }
    }

    public static string Golden(string name) => Path.Combine(AppContext.BaseDirectory, "Golden", name);

    public static double Number(JsonNode? node) => node!.GetValue<double>();

    /// <summary>The values of a little-endian .npy file of <typeparamref name="T"/> (a per-token output, targets), flattened.</summary>
    public static T[] NpyValues<T>(string path)
        where T : unmanaged =>
        System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(File.ReadAllBytes(path).AsSpan((int)GpuInfo.Formats.NpyFormat.Read(path).DataOffset)).ToArray();
}
