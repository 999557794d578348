using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Algorithms.ScanReduceOperations;

namespace GpuInfo.Kernels;

/// <summary>
/// Merges per-thread statistics across a thread group with ILGPU.Algorithms reductions; results are
/// valid in the group's first thread, and every thread must call (the reductions hold barriers).
/// No NaN or infinity ever enters a float reduction: ILGPU's float reductions can spin forever on
/// NaN (a compare-and-swap that never matches), so non-finite values travel as integer counts
/// packed into one 64-bit sum (10 bits a field; groups hold at most 512 threads), with the count of
/// threads holding the group's max (the first one's 1 stays implicit, each tie adds 1 to the tail).
/// </summary>
public static class GroupMerge
{
    public const int MaxGroupSize = 512;

    /// <summary>The most warps a group may have: the slots <see cref="OrderedSum{T, TAdd}"/> keeps its warps' sums in.</summary>
    public const int MaxWarps = 32;

    private const int Invalid = 0, Field1 = 10, Field2 = 20, KlNaN = 30, Field3 = 40, Holders = 50;

    public static RowPartial Row(RowPartial a, float invT)
    {
        var s = Rescale(a.Softmax, invT, out long flags, out _);

        // Σw·(x - max) moved to the group's max (s.Max; a thread with no finite entry keeps its 0 or -inf).
        float gap = SoftmaxMath.ShiftGapSum(a.SumGap, a.WeightSum, a.Softmax.Max, s.Max);
        flags |= Count(gap, Field1);
        long all = GroupExtensions.Reduce<long, AddInt64>(flags);
        RowPartial r;
        r.Softmax = Finish(s, all, withKl: false);

        // Σw·(x - max) is -inf when an entry of nonzero weight is masked (label smoothing is then +inf, as in PyTorch).
        r.SumGap = Sum(gap, all, Field1, float.NegativeInfinity);
        r.WeightSum = FiniteSum(a.WeightSum);
        r.Top = Top(a.Top);
        return r;
    }

    public static PairPartial Pair(PairPartial a, float invT)
    {
        PairPartial r;
        r.P = SoftmaxWithKl(a.P, invT);
        r.Q = SoftmaxWithKl(a.Q, invT);
        r.TopP = Top(a.TopP);
        r.TopQ = Top(a.TopQ);
        return r;
    }

    /// <summary>
    /// The group's max, given to every thread. ILGPU merges its warps' maxima with a compare-and-swap
    /// loop that ends when the value it read equals, as floats, the value the swap found: a -0 and a +0
    /// compare equal with different bits, so a larger value racing them could be dropped. Zeros enter
    /// as +0 (not as x + 0, which ILGPU folds to x).
    /// </summary>
    public static float Max(float value) => GroupExtensions.AllReduce<float, MaxFloat>(value == 0f ? 0f : value);

    /// <summary>Σ of a value that is finite in valid rows (a non-finite value makes the sum NaN).</summary>
    public static float Sum(float value)
    {
        long all = GroupExtensions.Reduce<long, AddInt64>(float.IsFinite(value) ? 0L : 1L);
        float sum = FiniteSum(value);
        return all != 0 ? float.NaN : sum;
    }

    public static ArgMaxTracker Top(ArgMaxTracker a)
    {
        // Value is never NaN: it only changes on x > Value.
        float best = Max(a.Value);
        int index = GroupExtensions.Reduce<int, MinInt32>(a.Value == best ? a.Index : int.MaxValue);
        return new ArgMaxTracker { Value = best, Index = index };
    }

    private static SoftmaxAccumulator SoftmaxWithKl(SoftmaxAccumulator a, float invT)
    {
        var s = Rescale(a, invT, out long flags, out float weight);

        // The common KL shift is that of the (first) thread holding the group's max.
        int winner = GroupExtensions.AllReduce<int, MinInt32>(a.Max == s.Max ? Group.IdxX : int.MaxValue);
        bool mine = Group.IdxX == winner && float.IsFinite(a.Shift);
        float shift = Max(mine ? a.Shift : float.NegativeInfinity);
        if (shift == float.NegativeInfinity)
        {
            shift = 0f;
            flags |= 1L << KlNaN;
        }

        KlMath.MoveShift(ref s, weight, shift, a.SumExp > 0f);

        // A NaN here comes from the other side's entry: it makes this side's KL NaN, not its softmax invalid.
        flags |= Count(s.ValueAcc, Field1, KlNaN) | Count(s.CurvatureAcc, Field2, KlNaN) | Count(s.ShiftAcc, Field3, KlNaN)
            | (float.IsNaN(s.Mismatches) ? 1L << KlNaN : 0L);
        long all = GroupExtensions.Reduce<long, AddInt64>(flags);
        var r = Finish(s, all, withKl: true);

        // The max reduction gives its identity (float.MinValue), not -inf, where no thread saw a masked
        // entry: a count says whether any did.
        float masked = Max(a.MaskedMax);
        int maskers = GroupExtensions.Reduce<int, AddInt32>(a.MaskedMax != float.NegativeInfinity ? 1 : 0);
        r.MaskedMax = maskers != 0 ? masked : float.NegativeInfinity;
        return r;
    }

    /// <summary>
    /// Rescales a thread's accumulator to the group's max (in Max; its whole Σe in <paramref name="weight"/>);
    /// flags it invalid if anything is NaN or +inf, and counts it if it holds the max.
    /// </summary>
    private static SoftmaxAccumulator Rescale(SoftmaxAccumulator a, float invT, out long flags, out float weight)
    {
        bool bad = float.IsNaN(a.Max) || float.IsNaN(a.Tail);
        float m = Max(bad ? float.NegativeInfinity : a.Max);
        var s = SoftmaxAccumulator.Rescaled(a, m, invT, out weight);
        bad |= !float.IsFinite(s.Tail) || !float.IsFinite(s.EntropyAcc);
        flags = (bad ? 1L << Invalid : 0L) | (!bad && SoftmaxAccumulator.HoldsMax(a, m) ? 1L << Holders : 0L);
        return s;
    }

    private static SoftmaxAccumulator Finish(SoftmaxAccumulator s, long all, bool withKl)
    {
        // No thread holds the max only when none saw a finite entry (the max reduction then gives its
        // identity, float.MinValue, not -inf): the group is empty.
        long holders = Field(all, Holders);
        SoftmaxAccumulator r;
        r.Max = holders == 0 ? float.NegativeInfinity : s.Max;
        float ties = holders > 1 ? holders - 1 : 0;
        r.Tail = FiniteSum(s.Tail) + ties;
        r.SquareTail = FiniteSum(s.SquareTail) + ties;
        r.EntropyAcc = FiniteSum(s.EntropyAcc);

        // The KL sums are infinite where a difference of logits overflowed (the facade redoes such rows in float64).
        r.ValueAcc = withKl ? Sum(s.ValueAcc, all, Field1, float.PositiveInfinity) : 0f;
        r.CurvatureAcc = withKl ? Sum(s.CurvatureAcc, all, Field2, float.PositiveInfinity) : 0f;

        r.ShiftAcc = withKl ? Sum(s.ShiftAcc, all, Field3, float.NegativeInfinity) : 0f;
        r.Shift = s.Shift;
        r.Mismatches = withKl ? FiniteSum(s.Mismatches) : 0f;
        r.MaskedMax = float.NegativeInfinity;
        if (Field(all, Invalid) != 0)
        {
            r.Tail = float.NaN;
        }

        if (Field(all, KlNaN) != 0)
        {
            r.ValueAcc = r.CurvatureAcc = r.ShiftAcc = float.NaN;
        }

        return r;
    }

    /// <summary>An infinity counts 1 in its field; NaN counts in <paramref name="nanField"/> (by default: the row is invalid).</summary>
    private static long Count(float value, int field, int nanField = Invalid) =>
        float.IsNaN(value) ? 1L << nanField : float.IsInfinity(value) ? 1L << field : 0L;

    /// <summary>The group sum of the finite values, or <paramref name="infinity"/> if any thread had one.</summary>
    private static float Sum(float value, long all, int field, float infinity)
    {
        float sum = FiniteSum(value);
        return Field(all, field) != 0 ? infinity : sum;
    }

    private static float FiniteSum(float value) => OrderedSum<float, AddFloat>(float.IsFinite(value) ? value : 0f);

    /// <summary>
    /// The group's sum, valid in its first thread, added in a fixed order: each warp's shuffle tree,
    /// then the warps' sums in warp order. ILGPU.Algorithms' group sums add the warps' sums with
    /// shared-memory atomics, in whatever order the warps get there, so a GPU could give other last
    /// bits on a rerun of the same data (and merged shards other bits than one run).
    /// </summary>
    public static T OrderedSum<T, TAdd>(T value)
        where T : unmanaged
        where TAdd : struct, IScanReduceOperation<T>
    {
        var warpSums = SharedMemory.Allocate<T>(MaxWarps);
        value = WarpExtensions.Reduce<T, TAdd>(value);
        if (Warp.IsFirstLane)
        {
            warpSums[Warp.WarpIdx] = value;
        }

        Group.Barrier();
        TAdd add = default;
        T sum = add.Identity;
        if (Group.IsFirstThread)
        {
            int warps = (Group.DimX + Warp.WarpSize - 1) / Warp.WarpSize;
            for (int w = 0; w < warps; w++)
            {
                sum = add.Apply(sum, warpSums[w]);
            }
        }

        Group.Barrier();
        return sum;
    }

    /// <summary><see cref="OrderedSum{T, TAdd}"/>, given to every thread.</summary>
    public static T OrderedAllSum<T, TAdd>(T value)
        where T : unmanaged
        where TAdd : struct, IScanReduceOperation<T>
    {
        var total = SharedMemory.Allocate<T>(1);
        T sum = OrderedSum<T, TAdd>(value);
        if (Group.IsFirstThread)
        {
            total[0] = sum;
        }

        Group.Barrier();
        sum = total[0];
        Group.Barrier();
        return sum;
    }

    private static long Field(long all, int shift) => (all >> shift) & 0x3FF;
}
