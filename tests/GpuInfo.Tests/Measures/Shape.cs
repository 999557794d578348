namespace GpuInfo.Tests.Measures;

/// <summary>A logits shape for a test; backends supply sizes that suit their speed.</summary>
public readonly record struct Shape(int Rows, int Vocab)
{
    public override string ToString() => $"[{Rows}, {Vocab}]";
}
