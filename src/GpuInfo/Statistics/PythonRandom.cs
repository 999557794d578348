using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace GpuInfo;

/// <summary>
/// CPython's <c>random.Random</c>: the Mersenne Twister MT19937 seeded from an integer as <c>random.seed(n)</c> seeds it
/// (<c>init_by_array</c> over the 32-bit words of n), <c>random()</c>'s 53-bit doubles, and the index
/// <c>random.choices</c> draws from a population of n without weights, <c>floor(random() * n)</c>. Written here because
/// a bootstrap must draw what lm-evaluation-harness's draws to report its figures, and no .NET generator seeds as
/// CPython does.
/// </summary>
public sealed class PythonRandom
{
    private const int N = 624;
    private const int M = 397;
    private readonly uint[] state = new uint[N];
    private int index;

    /// <summary>A generator in the state <c>random.Random(seed)</c> starts in.</summary>
    public PythonRandom(ulong seed)
    {
        uint[] key = seed >> 32 == 0 ? [(uint)seed] : [(uint)seed, (uint)(seed >> 32)];
        InitByArray(key);
    }

    /// <summary><c>random.random()</c>: a double in [0, 1) from two 32-bit outputs (27 and 26 bits).</summary>
    public double NextDouble()
    {
        uint a = NextUInt32() >> 5, b = NextUInt32() >> 6;
        return ((a * 67108864.0) + b) * (1.0 / 9007199254740992.0);
    }

    /// <summary>
    /// The indices <c>random.choices(population, k=len(indices))</c> picks from a population of <paramref name="count"/>:
    /// <c>floor(random() * count)</c> each, <see cref="NextDouble"/> written out.
    /// </summary>
    public void ChoiceIndices(int count, Span<int> indices)
    {
        double n = count;
        for (int i = 0; i < indices.Length; i++)
        {
            uint a = NextUInt32() >> 5, b = NextUInt32() >> 6;
            indices[i] = (int)(((a * 67108864.0) + b) * (1.0 / 9007199254740992.0) * n);
        }
    }

    /// <summary>The next 32-bit output (CPython's <c>genrand_uint32</c>).</summary>
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
