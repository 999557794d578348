using System.Collections;
using System.Globalization;
using System.Numerics;

namespace GpuInfo.Formats;

/// <summary>The names under which a pickle's values hold tensors: the root itself, or dict keys, list and tuple indices joined by dots.</summary>
internal static class TorchTree
{
    public sealed record Found(List<(string Name, TorchTensorRecord Record)> Tensors, SortedDictionary<string, string> Others, bool Single);

    public static Found Collect(string path, object? root)
    {
        var others = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (root is TorchTensorRecord single)
        {
            return new Found([(System.IO.Path.GetFileName(path), single)], others, true);
        }

        if (root is not (Hashtable or ArrayList or object[]))
        {
            throw new InvalidFileException(path, $"holds a {TorchPickle.Describe(root)}, not a tensor or a dict of tensors.");
        }

        var tensors = new List<(string Name, TorchTensorRecord Record)>();
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Stack<(string Prefix, object Container, int Depth)>();
        pending.Push((string.Empty, root, 1));
        while (pending.TryPop(out var item))
        {
            if (!seen.Add(item.Container))
            {
                continue;
            }

            if (item.Depth > TorchFormat.MaxDepth)
            {
                throw new InvalidFileException(path, $"its values nest deeper than {TorchFormat.MaxDepth} levels ('{item.Prefix}').");
            }

            foreach (var (key, value) in Children(path, item.Container))
            {
                string name = item.Prefix.Length == 0 ? key : item.Prefix + "." + key;
                if (value is TorchTensorRecord tensor)
                {
                    if (!names.Add(name))
                    {
                        throw new InvalidFileException(path, $"two tensors are named '{name}'.");
                    }

                    tensors.Add((name, tensor));
                }
                else if (value is Hashtable or ArrayList or object[])
                {
                    pending.Push((name, value, item.Depth + 1));
                }
                else
                {
                    others[name] = TorchPickle.Describe(value);
                }
            }
        }

        tensors.Sort((a, b) => a.Record.Order != b.Record.Order ? a.Record.Order.CompareTo(b.Record.Order) : string.CompareOrdinal(a.Name, b.Name));
        return new Found(tensors, others, false);
    }

    private static IEnumerable<(string Key, object? Value)> Children(string path, object container)
    {
        switch (container)
        {
            case Hashtable dict:
                foreach (DictionaryEntry entry in dict)
                {
                    yield return (entry.Key switch
                    {
                        string s => s,
                        int or long or BigInteger => Convert.ToString(entry.Key, CultureInfo.InvariantCulture)!,
                        _ => throw new InvalidFileException(path, $"a dict key is a {TorchPickle.Describe(entry.Key)}; names must be strings or integers."),
                    }, entry.Value);
                }

                break;
            case IList list:
                for (int i = 0; i < list.Count; i++)
                {
                    yield return (i.ToString(CultureInfo.InvariantCulture), list[i]);
                }

                break;
        }
    }
}
