using GpuInfo.Models;

namespace GpuInfo.Tests.Models;

/// <summary>The BPE merge table against a dictionary of the same pairs, grown from nothing and made with room: every pair found with its rank and merged id, the last of a pair set twice (the first where added), none found that is not there.</summary>
public sealed class PairTableTests
{
    [Fact]
    public void Lookups_agree_with_a_dictionary_of_the_same_pairs()
    {
        int seed = Random.Shared.Next();
        var rng = new Random(seed);
        foreach (int count in new[] { 0, 1, 7, 1000, 50_000 })
        {
            var pairs = new List<((int, int), (int, int))>();
            var expected = new Dictionary<(int, int), (int, int)>();
            int range = Math.Max(4, (int)Math.Sqrt(count) * 3); // dense enough that pairs repeat and neighbours collide
            for (int i = 0; i < count; i++)
            {
                var pair = (rng.Next(range), rng.Next(range));
                var merge = (rng.Next(), rng.Next(int.MaxValue));
                pairs.Add((pair, merge));
                expected[pair] = merge;
            }

            var table = new PairTable(rng.Next(2) == 0 ? 0 : count);
            var firsts = new PairTable();
            foreach (var ((left, right), (rank, merged)) in pairs)
            {
                table.Set(left, right, rank, merged);
                firsts.TryAdd(left, right, rank, merged);
            }

            Assert.Equal(expected.Count, table.Count);
            Assert.Equal(expected.Count, firsts.Count);
            foreach (var group in pairs.GroupBy(p => p.Item1))
            {
                Assert.True(firsts.TryGet(group.Key.Item1, group.Key.Item2, out int rank, out int merged));
                Assert.Equal(group.First().Item2, (rank, merged));
            }

            Assert.Equal(expected.Values.Select(v => v.Item2).Order(), table.Seconds.Order());
            for (int left = 0; left < Math.Min(range, 300); left++)
            {
                for (int right = 0; right < Math.Min(range, 300); right++)
                {
                    bool found = table.TryGet(left, right, out int rank, out int merged);
                    Assert.True(found == expected.TryGetValue((left, right), out var want), $"seed {seed}, {count} pairs: ({left}, {right}) found {found}");
                    if (found)
                    {
                        Assert.Equal(want, (rank, merged));
                    }
                }
            }

            Assert.False(table.TryGet(int.MaxValue, 0, out _, out _));
        }
    }

    [Fact]
    public void Negative_ids_are_refused()
    {
        var table = new PairTable();
        Assert.Throws<ArgumentOutOfRangeException>(() => table.Set(-1, 0, 0, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => table.TryAdd(0, 1, 0, -1));
        Assert.Equal(0, table.Count);
    }
}
