using ILGPU;

namespace GpuInfo.Kernels;

/// <summary>Widens one stored logit to float32. Kernels are generic over this so one kernel body serves every dtype.</summary>
public interface ILogitLoader<T>
    where T : unmanaged
{
    float Load(T value);

    /// <summary>
    /// Logit <paramref name="lane"/> of a little-endian 32-bit word of stored logits: lane 0 for
    /// float32; lane 0 (the low half) or 1 for 16-bit dtypes. Wide loads read words (<see cref="WideLoad"/>).
    /// </summary>
    float FromWord(uint word, int lane);
}

/// <summary>float32 logits.</summary>
public readonly struct Float32Loader : ILogitLoader<float>
{
    public float Load(float value) => value;

    public float FromWord(uint word, int lane) => Interop.IntAsFloat(word);
}

/// <summary>IEEE fp16 logits (ILGPU's Half has System.Half's bit layout).</summary>
public readonly struct Float16Loader : ILogitLoader<ILGPU.Half>
{
    public float Load(ILGPU.Half value) => (float)value;

    public float FromWord(uint word, int lane) => (float)Interop.IntAsFloat((ushort)(lane == 0 ? word : word >> 16));
}

/// <summary>bfloat16 logits carried as their 16-bit payload: the high half of a float32.</summary>
public readonly struct BFloat16Loader : ILogitLoader<ushort>
{
    public float Load(ushort value) => Interop.IntAsFloat((uint)value << 16);

    public float FromWord(uint word, int lane) => Interop.IntAsFloat(lane == 0 ? word << 16 : word & 0xFFFF0000u);
}
