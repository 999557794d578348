namespace GpuInfo.Tests.Measures;

/// <summary>Output buffers filled with NaN, so that a value a backend failed to write cannot pass.</summary>
internal static class Poison
{
    public static float[] Floats(int n)
    {
        var a = new float[n];
        a.AsSpan().Fill(float.NaN);
        return a;
    }
}
