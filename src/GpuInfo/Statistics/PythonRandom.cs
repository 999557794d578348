using System.Runtime.CompilerServices;

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
    private readonly Mt19937 generator;

    /// <summary>A generator in the state <c>random.Random(seed)</c> starts in.</summary>
    public PythonRandom(ulong seed)
    {
        uint[] key = seed >> 32 == 0 ? [(uint)seed] : [(uint)seed, (uint)(seed >> 32)];
        generator = Mt19937.FromKey(key);
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint NextUInt32() => generator.NextUInt32();
}
