namespace GpuInfo;

/// <summary>Conversions between float32 and bfloat16 payloads (round to nearest even, as PyTorch).</summary>
public static class BFloat16Bits
{
    public static float ToSingle(ushort bits) => BitConverter.UInt32BitsToSingle((uint)bits << 16);

    public static ushort FromSingle(float value)
    {
        uint u = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((u >> 16) | 0x40);
        }

        uint rounding = 0x7FFF + ((u >> 16) & 1);
        return (ushort)((u + rounding) >> 16);
    }
}
