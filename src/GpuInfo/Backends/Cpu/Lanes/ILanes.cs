namespace GpuInfo.Backends.Cpu.Lanes;

/// <summary>
/// One SIMD register of floats, as the CPU passes use it. The passes are generic over this, so one
/// loop serves both widths: <see cref="Lanes512"/> (AVX-512) and <see cref="Lanes256"/> (everywhere
/// else). Comparisons return all-bits masks, as <c>Vector256.LessThan</c> does.
/// </summary>
internal interface ILanes<TSelf>
    where TSelf : struct, ILanes<TSelf>
{
    static abstract int Count { get; }

    /// <summary>The mask whose every lane is set, as <see cref="Bits"/> returns it.</summary>
    static abstract ulong AllBits { get; }

    static abstract TSelf Create(float value);

    static abstract TSelf Load(ref float source, nuint index);

    /// <summary>Stores the lanes at <paramref name="destination"/>[index..], unaligned.</summary>
    static abstract void Store(TSelf value, ref float destination, nuint index);

    /// <summary>A store that bypasses the caches; <paramref name="destination"/> aligned to the vector size.</summary>
    static abstract unsafe void StoreNonTemporal(TSelf value, float* destination);

    static abstract TSelf operator +(TSelf left, TSelf right);

    static abstract TSelf operator -(TSelf left, TSelf right);

    static abstract TSelf operator *(TSelf left, TSelf right);

    static abstract TSelf operator -(TSelf value);

    static abstract TSelf operator &(TSelf left, TSelf right);

    /// <summary>a·b + c, rounded once.</summary>
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);

    /// <summary>The platform's max (NaN handling unspecified: use only where NaN is caught elsewhere).</summary>
    static abstract TSelf MaxNative(TSelf left, TSelf right);

    static abstract TSelf Abs(TSelf value);

    static abstract TSelf LessThan(TSelf left, TSelf right);

    static abstract TSelf Select(TSelf mask, TSelf ifSet, TSelf ifClear);

    /// <summary>acc + e·x in lanes where e ≠ 0, acc where e = 0 (so that 0·±inf adds nothing).</summary>
    static abstract TSelf AddProductUnlessZero(TSelf acc, TSelf e, TSelf x);

    /// <summary>One bit per lane of a mask, lane 0 lowest.</summary>
    static abstract ulong Bits(TSelf mask);

    static abstract float Sum(TSelf value);

    /// <summary>The largest lane (NaN handling unspecified, as <see cref="MaxNative"/>).</summary>
    static abstract float Max(TSelf value);

    static abstract float Element(TSelf value, int lane);

    /// <summary>e^x per lane; see <see cref="VectorExp"/> for the accuracy of each width.</summary>
    static abstract TSelf Exp(TSelf value);

    /// <summary>2^x per lane; see <see cref="VectorExp"/>.</summary>
    static abstract TSelf Exp2(TSelf value);
}
