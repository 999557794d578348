using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace GpuInfo.Backends.Cpu.Lanes;

/// <summary>Eight float lanes (AVX2 on x64; two NEON registers on Arm).</summary>
internal readonly struct Lanes256 : ILanes<Lanes256>
{
    private readonly Vector256<float> _v;

    private Lanes256(Vector256<float> v) => _v = v;

    public static int Count => Vector256<float>.Count;

    public static ulong AllBits => 0xFFul;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 From(Vector256<float> v) => new(v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Create(float value) => new(Vector256.Create(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Load(ref float source, nuint index) => new(Vector256.LoadUnsafe(ref source, index));

    /// <inheritdoc/>
    public static void Store(Lanes256 value, ref float destination, nuint index) => value._v.StoreUnsafe(ref destination, index);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void StoreNonTemporal(Lanes256 value, float* destination) => value._v.StoreAlignedNonTemporal(destination);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 operator +(Lanes256 left, Lanes256 right) => new(left._v + right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 operator -(Lanes256 left, Lanes256 right) => new(left._v - right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 operator *(Lanes256 left, Lanes256 right) => new(left._v * right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 operator -(Lanes256 value) => new(-value._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 operator &(Lanes256 left, Lanes256 right) => new(left._v & right._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 AddProductUnlessZero(Lanes256 acc, Lanes256 e, Lanes256 x) =>
        new(Vector256.ConditionalSelect(Vector256.Equals(e._v, Vector256<float>.Zero), acc._v, Vector256.FusedMultiplyAdd(e._v, x._v, acc._v)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 MultiplyAdd(Lanes256 a, Lanes256 b, Lanes256 c) => new(Vector256.FusedMultiplyAdd(a._v, b._v, c._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 MaxNative(Lanes256 left, Lanes256 right) => new(Vector256.MaxNative(left._v, right._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Abs(Lanes256 value) => new(Vector256.Abs(value._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 LessThan(Lanes256 left, Lanes256 right) => new(Vector256.LessThan(left._v, right._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Select(Lanes256 mask, Lanes256 ifSet, Lanes256 ifClear) => new(Vector256.ConditionalSelect(mask._v, ifSet._v, ifClear._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Bits(Lanes256 mask) => mask._v.ExtractMostSignificantBits();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Lanes256 value) => Vector256.Sum(value._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(Lanes256 value)
    {
        var v = Vector128.MaxNative(value._v.GetLower(), value._v.GetUpper());
        float m = v.GetElement(0);
        for (int i = 1; i < Vector128<float>.Count; i++)
        {
            m = MathF.Max(m, v.GetElement(i));
        }

        return m;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Element(Lanes256 value, int lane) => value._v.GetElement(lane);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Exp(Lanes256 value) => new(VectorExp.Exp(value._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Lanes256 Exp2(Lanes256 value) => new(VectorExp.Exp2(value._v));
}
