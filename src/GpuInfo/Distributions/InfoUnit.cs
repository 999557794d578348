namespace GpuInfo;

/// <summary>Unit of an information quantity: bits (log base 2) or nats (natural log).</summary>
public enum InfoUnit
{
    Bits,
    Nats,
}

internal static class InfoUnitExtensions
{
    public static double FromNats(this InfoUnit unit, double nats) => unit switch
    {
        InfoUnit.Bits => nats / Math.Log(2),
        InfoUnit.Nats => nats,
        _ => throw new ArgumentOutOfRangeException(nameof(unit), unit, "not an InfoUnit."),
    };
}
