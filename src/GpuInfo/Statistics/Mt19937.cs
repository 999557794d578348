using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GpuInfo;

/// <summary>
/// The Mersenne Twister MT19937 (Matsumoto and Nishimura's reference <c>mt19937ar.c</c>): 32-bit outputs, seeded from one
/// integer as C++'s <c>std::mt19937</c> is, or from a key as CPython's <c>random.seed</c> seeds it (<see cref="PythonRandom"/>).
/// </summary>
public sealed class Mt19937
{
    private const int N = 624;
    private const int M = 397;
    private readonly uint[] state = new uint[N];
    private int index;

    /// <summary>A generator in the state C++'s <c>std::mt19937(seed)</c> starts in (<c>init_genrand</c>).</summary>
    public Mt19937(uint seed) => InitGenrand(seed);

    private Mt19937()
    {
    }

    /// <summary>A generator seeded from a key as <c>init_by_array</c> seeds it (CPython's <c>random.seed</c> of an integer).</summary>
    public static Mt19937 FromKey(uint[] key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var generator = new Mt19937();
        generator.InitByArray(key);
        return generator;
    }

    /// <summary>The next 32-bit output (<c>genrand_uint32</c>; <c>std::mt19937</c>'s <c>operator()</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint NextUInt32()
    {
        if (index >= N)
        {
            Twist();
        }

        uint y = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(state), index++);
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        return y;
    }

    private void Twist()
    {
        var mt = state.AsSpan();
        int k = 0;
        for (; k < N - M; k++)
        {
            mt[k] = mt[k + M] ^ Mix(mt[k], mt[k + 1]);
        }

        for (; k < N - 1; k++)
        {
            mt[k] = mt[k + M - N] ^ Mix(mt[k], mt[k + 1]);
        }

        mt[N - 1] = mt[M - 1] ^ Mix(mt[N - 1], mt[0]);

        index = 0;
    }

    private static uint Mix(uint upper, uint lower)
    {
        uint y = (upper & 0x80000000u) | (lower & 0x7fffffffu);
        return (y >> 1) ^ ((y & 1) * 0x9908b0dfu);
    }

    private void InitGenrand(uint seed)
    {
        state[0] = seed;
        for (uint i = 1; i < N; i++)
        {
            state[i] = (1812433253u * (state[i - 1] ^ (state[i - 1] >> 30))) + i;
        }

        index = N;
    }

    private void InitByArray(uint[] key)
    {
        InitGenrand(19650218u);
        int i = 1, j = 0;
        for (int k = Math.Max(N, key.Length); k > 0; k--)
        {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) * 1664525u)) + key[j] + (uint)j;
            i++;
            j++;
            if (i >= N)
            {
                state[0] = state[N - 1];
                i = 1;
            }

            if (j >= key.Length)
            {
                j = 0;
            }
        }

        for (int k = N - 1; k > 0; k--)
        {
            state[i] = (state[i] ^ ((state[i - 1] ^ (state[i - 1] >> 30)) * 1566083941u)) - (uint)i;
            i++;
            if (i >= N)
            {
                state[0] = state[N - 1];
                i = 1;
            }
        }

        state[0] = 0x80000000u;
    }
}

/// <summary>C++ standard library distributions over <see cref="Mt19937"/>, as a given implementation computes them.</summary>
public static class StdDistributions
{
    /// <summary>
    /// <c>std::uniform_int_distribution&lt;size_t&gt;(0, count - 1)(g)</c> as libstdc++ (GCC 11 and later, Linux) computes
    /// it for a 32-bit generator: Lemire's multiply-and-shift of one output by <paramref name="count"/>, drawing again
    /// while the low half falls below 2^32 mod count. (libc++, clang's macOS default, draws otherwise.)
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A count below 1 or of 2^32 or more (another branch of the library).</exception>
    public static ulong UniformIndex(Mt19937 generator, ulong count)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentOutOfRangeException.ThrowIfZero(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, (ulong)uint.MaxValue);
        uint range = (uint)count;
        ulong product = (ulong)generator.NextUInt32() * range;
        uint low = (uint)product;
        if (low < range)
        {
            uint threshold = (uint)(0u - range) % range;
            while (low < threshold)
            {
                product = (ulong)generator.NextUInt32() * range;
                low = (uint)product;
            }
        }

        return product >> 32;
    }
}
