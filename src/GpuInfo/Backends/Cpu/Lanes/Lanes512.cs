using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GpuInfo.Backends.Cpu.Lanes;

/// <summary>Sixteen float lanes (AVX-512). Use only where <see cref="IsSupported"/>.</summary>
internal readonly struct Lanes512 : ILanes<Lanes512>
{
    private readonly Vector512<float> _v;

    private Lanes512(Vector512<float> v) => _v = v;

    /// <summary>Whether the JIT compiles Vector512 to AVX-512 here (it does not on CPUs that throttle under it).</summary>
    public static bool IsSupported => Vector512.IsHardwareAccelerated && Avx512F.IsSupported;

    public static int Count => Vector512<float>.Count;

    public static ulong AllBits => 0xFFFFul;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Create(float value) => new(Vector512.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Load(ref float source, nuint index) => new(Vector512.LoadUnsafe(ref source, index));

    /// <inheritdoc/>
    public static void Store(Lanes512 value, ref float destination, nuint index) => value._v.StoreUnsafe(ref destination, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreNonTemporal(Lanes512 value, float* destination) => value._v.StoreAlignedNonTemporal(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 operator +(Lanes512 left, Lanes512 right) => new(left._v + right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 operator -(Lanes512 left, Lanes512 right) => new(left._v - right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 operator *(Lanes512 left, Lanes512 right) => new(left._v * right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 operator -(Lanes512 value) => new(-value._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 operator &(Lanes512 left, Lanes512 right) => new(left._v & right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 AddProductUnlessZero(Lanes512 acc, Lanes512 e, Lanes512 x) =>
        new(Vector512.ConditionalSelect(Vector512.Equals(e._v, Vector512<float>.Zero), acc._v, Vector512.FusedMultiplyAdd(e._v, x._v, acc._v)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 MultiplyAdd(Lanes512 a, Lanes512 b, Lanes512 c) => new(Vector512.FusedMultiplyAdd(a._v, b._v, c._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 MaxNative(Lanes512 left, Lanes512 right) => new(Vector512.MaxNative(left._v, right._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Abs(Lanes512 value) => new(Vector512.Abs(value._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 LessThan(Lanes512 left, Lanes512 right) => new(Vector512.LessThan(left._v, right._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Select(Lanes512 mask, Lanes512 ifSet, Lanes512 ifClear) => new(Vector512.ConditionalSelect(mask._v, ifSet._v, ifClear._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Bits(Lanes512 mask) => mask._v.ExtractMostSignificantBits();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Lanes512 value) => Vector512.Sum(value._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(Lanes512 value)
    {
        var half = Vector256.MaxNative(value._v.GetLower(), value._v.GetUpper());
        return Lanes256.Max(Lanes256.From(half));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Element(Lanes512 value, int lane) => value._v.GetElement(lane);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Exp(Lanes512 value) => new(VectorExp.Exp(value._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes512 Exp2(Lanes512 value) => new(VectorExp.Exp2(value._v));
}
