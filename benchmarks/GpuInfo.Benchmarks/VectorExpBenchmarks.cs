using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using GpuInfo.Backends.Cpu.Lanes;

namespace GpuInfo.Benchmarks;

/// <summary>
/// The CPU passes' vector exp against .NET's, one core, on an L1-resident block of 2048 floats (the
/// passes' block size): Σ exp(x) per call. The reason VectorExp exists; its accuracy is in the tests.
/// </summary>
public class VectorExpBenchmarks
{
    private const int Block = 2048;
    private readonly float[] _x = new float[Block];

    [GlobalSetup]
    public void Setup()
    {
        var rng = new Random(7);
        for (int i = 0; i < Block; i++)
        {
            _x[i] = -20f * (float)rng.NextDouble();
        }
    }

    [Benchmark(Baseline = true)]
    public float DotNetVector256Exp()
    {
        ref float x0 = ref MemoryMarshal.GetArrayDataReference(_x);
        var s = Vector256<float>.Zero;
        for (int i = 0; i < Block; i += Vector256<float>.Count)
        {
            s += Vector256.Exp(Vector256.LoadUnsafe(ref x0, (nuint)i));
        }

        return Vector256.Sum(s);
    }

    [Benchmark]
    public float DotNetVector512Exp()
    {
        ref float x0 = ref MemoryMarshal.GetArrayDataReference(_x);
        var s = Vector512<float>.Zero;
        for (int i = 0; i < Block; i += Vector512<float>.Count)
        {
            s += Vector512.Exp(Vector512.LoadUnsafe(ref x0, (nuint)i));
        }

        return Vector512.Sum(s);
    }

    [Benchmark]
    public float OwnExp16Lanes()
    {
        if (!Lanes512.IsSupported)
        {
            throw new PlatformNotSupportedException("no AVX-512 here: the 16-lane exp is not used on this machine");
        }

        ref float x0 = ref MemoryMarshal.GetArrayDataReference(_x);
        var s = Vector512<float>.Zero;
        for (int i = 0; i < Block; i += Vector512<float>.Count)
        {
            s += VectorExp.Exp(Vector512.LoadUnsafe(ref x0, (nuint)i));
        }

        return Vector512.Sum(s);
    }

    [Benchmark]
    public float OwnExp2_16Lanes()
    {
        if (!Lanes512.IsSupported)
        {
            throw new PlatformNotSupportedException("no AVX-512 here: the 16-lane exp is not used on this machine");
        }

        ref float x0 = ref MemoryMarshal.GetArrayDataReference(_x);
        var s = Vector512<float>.Zero;
        for (int i = 0; i < Block; i += Vector512<float>.Count)
        {
            s += VectorExp.Exp2(Vector512.LoadUnsafe(ref x0, (nuint)i));
        }

        return Vector512.Sum(s);
    }

    [Benchmark]
    public float OwnExpPortable8Lanes()
    {
        ref float x0 = ref MemoryMarshal.GetArrayDataReference(_x);
        var s = Vector256<float>.Zero;
        for (int i = 0; i < Block; i += Vector256<float>.Count)
        {
            s += VectorExp.PortableExp(Vector256.LoadUnsafe(ref x0, (nuint)i));
        }

        return Vector256.Sum(s);
    }
}
