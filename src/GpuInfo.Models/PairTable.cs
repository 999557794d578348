namespace GpuInfo.Models;

/// <summary>
/// Two ints by pair of ints, in one open-addressed array (linear probing, at most half full), so that a lookup reads
/// one cache line where a <see cref="Dictionary{TKey, TValue}"/> reads its buckets and then its entries: a BPE's merges
/// (pair of ids: rank, merged id; the merge loop of Gemma's 514,906 merges spent most of its time on lookups that miss
/// the cache) and a Unigram's trie (node, char: child node).
/// </summary>
internal sealed class PairTable
{
    private Entry[] _entries;
    private int _shift;

    /// <param name="capacity">Pairs to make room for (more grow the table).</param>
    public PairTable(int capacity = 0)
    {
        (_entries, _shift) = Allocate(capacity);
    }

    /// <summary>Pairs held.</summary>
    public int Count { get; private set; }

    /// <summary>Sets the pair's values, over any it had (a BPE pair listed twice takes its last, as Hugging Face's BPE does).</summary>
    public void Set(int left, int right, int first, int second) => Put(left, right, first, second, replace: true);

    /// <summary>Adds the pair unless it is held; false where it is (SentencePiece's first split of a piece wins).</summary>
    public bool TryAdd(int left, int right, int first, int second) => Put(left, right, first, second, replace: false);

    private bool Put(int left, int right, int first, int second, bool replace)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(left);
        ArgumentOutOfRangeException.ThrowIfNegative(right);
        ArgumentOutOfRangeException.ThrowIfNegative(second);
        if (2L * (Count + 1) > _entries.Length)
        {
            var old = _entries;
            (_entries, _shift) = Allocate(2 * Count + 2);
            foreach (var entry in old)
            {
                if (entry.Second != 0)
                {
                    _entries[Find(entry.Key)] = entry;
                }
            }
        }

        ulong key = Key(left, right);
        int at = Find(key);
        bool held = _entries[at].Second != 0;
        if (held && !replace)
        {
            return false;
        }

        Count += held ? 0 : 1;
        _entries[at] = new Entry(key, first, second + 1);
        return true;
    }

    /// <summary>The slot that holds <paramref name="key"/>, or the empty one where it would go.</summary>
    private int Find(ulong key)
    {
        int at = Slot(key);
        while (_entries[at].Second != 0 && _entries[at].Key != key)
        {
            at = (at + 1) & (_entries.Length - 1);
        }

        return at;
    }

    private static (Entry[] Entries, int Shift) Allocate(int pairs)
    {
        int capacity = 16;
        while (capacity < 2L * pairs)
        {
            capacity *= 2;
        }

        return (new Entry[capacity], 64 - int.Log2(capacity));
    }

    /// <summary>The values of the pair (<paramref name="left"/>, <paramref name="right"/>), where it is held; else false, and <paramref name="second"/> -1.</summary>
    public bool TryGet(int left, int right, out int first, out int second)
    {
        ulong key = Key(left, right);
        for (int at = Slot(key); ; at = (at + 1) & (_entries.Length - 1))
        {
            ref readonly var entry = ref _entries[at];
            if (entry.Second == 0)
            {
                (first, second) = (0, -1);
                return false;
            }

            if (entry.Key == key)
            {
                (first, second) = (entry.First, entry.Second - 1);
                return true;
            }
        }
    }

    /// <summary>Every pair's second value (a BPE's merged ids).</summary>
    public IEnumerable<int> Seconds => _entries.Where(e => e.Second != 0).Select(e => e.Second - 1);

    private int Slot(ulong key) => (int)(key >> _shift);

    /// <summary>The pair's bits mixed by an odd multiplier (one to one), so that the high bits that pick a slot depend on both ids.</summary>
    private static ulong Key(int left, int right) => (((ulong)(uint)left << 32) | (uint)right) * 0x9E3779B97F4A7C15UL;

    /// <summary>A slot: the pair's key, its first value, and its second plus one (0: empty).</summary>
    private readonly record struct Entry(ulong Key, int First, int Second);
}
