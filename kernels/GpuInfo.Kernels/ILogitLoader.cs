using ILGPU;

namespace GpuInfo.Kernels;

/// <summary>Widens one stored logit to float32. Kernels are generic over this so one kernel body serves every dtype.</summary>
public interface ILogitLoader<T>
    where T : unmanaged
{
    float Load(T value);
}

/// <summary>float32 logits.</summary>
public readonly struct Float32Loader : ILogitLoader<float>
{
    public float Load(float value) => value;
}

/// <summary>IEEE fp16 logits (ILGPU's Half has System.Half's bit layout).</summary>
public readonly struct Float16Loader : ILogitLoader<ILGPU.Half>
{
    public float Load(ILGPU.Half value) => (float)value;
}

/// <summary>bfloat16 logits carried as their 16-bit payload: the high half of a float32.</summary>
public readonly struct BFloat16Loader : ILogitLoader<ushort>
{
    public float Load(ushort value) => Interop.IntAsFloat((uint)value << 16);
}
