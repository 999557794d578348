using System.Collections;
using System.Numerics;
using Razorvine.Pickle;

namespace GpuInfo.Formats;

/// <summary>An element type as torch names it (float32, bfloat16, uint8...): GpuInfo's <see cref="DType"/> when it reads it, and its size in bytes.</summary>
internal sealed record TorchElement(string Name, DType? DType, int Size);

/// <summary>A tensor record of a torch.save pickle: a view (offset, shape, strides in elements) into a storage.</summary>
/// <param name="Order">Increases in the order the pickle builds tensors, which is the order of the dicts that hold them.</param>
internal sealed record TorchTensorRecord(TorchStorage Storage, long Offset, long[] Shape, long[] Strides, TorchElement Element, long Order);

/// <summary>A storage a pickle refers to by persistent id: its key (the record data/KEY), class and length in its class's elements.</summary>
internal sealed record TorchStorage(string Key, TorchStorageClass Class, long Elements);

/// <summary>A GLOBAL naming a storage class (torch.FloatStorage, torch.UntypedStorage...); never called.</summary>
internal sealed record TorchStorageClass(string Global, TorchElement Element) : IObjectConstructor
{
    public object construct(object[] args) => throw new InvalidDataException($"{Global} is called, not used as a storage class");
}

/// <summary>A GLOBAL naming a dtype (torch.float32...), as _rebuild_tensor_v3 takes it; never called.</summary>
internal sealed record TorchDTypeGlobal(TorchElement Element) : IObjectConstructor
{
    public object construct(object[] args) => throw new InvalidDataException($"torch.{Element.Name} is called, not used as a dtype");
}

/// <summary>collections.OrderedDict: a dict (SETITEMS fills it); state from BUILD (a state_dict's _metadata) is kept apart.</summary>
internal sealed class PickledOrderedDict : Hashtable
{
    public object? State { get; private set; }

    // Razorvine's BUILD calls __setstate__ by reflection.
#pragma warning disable IDE1006, CA1707
    public void __setstate__(Hashtable state) => State = state;
#pragma warning restore IDE1006, CA1707
}

/// <summary>
/// Unpickles a torch.save data.pkl with Razorvine.Pickle into plain values (dicts, lists, tuples,
/// strings, numbers) and <see cref="TorchTensorRecord"/>s. Only the globals in <see cref="Allowed"/>
/// are given constructors, and <see cref="Load"/> refuses a pickle naming any other before unpickling
/// it (<see cref="PickleGlobals"/>), so nothing else is ever constructed; no Python code runs.
/// </summary>
internal static class TorchPickle
{
    private static readonly TorchElement[] Elements =
    [
        new("float32", DType.Float32, 4), new("float16", DType.Float16, 2), new("bfloat16", DType.BFloat16, 2),
        new("float64", DType.Float64, 8), new("int32", DType.Int32, 4), new("int64", DType.Int64, 8),
        new("uint8", null, 1), new("int8", null, 1), new("int16", null, 2), new("bool", null, 1),
        new("complex64", null, 8), new("complex128", null, 16), new("qint8", null, 1), new("quint8", null, 1),
        new("qint32", null, 4), new("quint4x2", null, 1), new("quint2x4", null, 1),

        // torch >= 2 writes these (torch.storage._new_dtypes) as an UntypedStorage with the dtype beside it.
        new("uint16", null, 2), new("uint32", null, 4), new("uint64", null, 8), new("complex32", null, 4),
        new("float8_e5m2", null, 1), new("float8_e4m3fn", null, 1), new("float8_e5m2fnuz", null, 1),
        new("float8_e4m3fnuz", null, 1), new("float8_e8m0fnu", null, 1), new("float4_e2m1fn_x2", null, 1),
        new("bits8", null, 1), new("bits16", null, 2), new("bits1x8", null, 1), new("bits2x4", null, 1), new("bits4x2", null, 1),
    ];

    /// <summary>The untyped storage (bytes) that torch >= 2 pickles with _rebuild_tensor_v3, the dtype beside it.</summary>
    private const string Untyped = "torch.storage.UntypedStorage";

    /// <summary>The typed storage classes torch.save names, one per dtype (torch.storage._dtype_to_storage_type_map).</summary>
    private static readonly Dictionary<string, string> StorageClasses = new()
    {
        ["FloatStorage"] = "float32", ["HalfStorage"] = "float16", ["BFloat16Storage"] = "bfloat16",
        ["DoubleStorage"] = "float64", ["IntStorage"] = "int32", ["LongStorage"] = "int64",
        ["ByteStorage"] = "uint8", ["CharStorage"] = "int8", ["ShortStorage"] = "int16", ["BoolStorage"] = "bool",
        ["ComplexFloatStorage"] = "complex64", ["ComplexDoubleStorage"] = "complex128",
        ["QInt8Storage"] = "qint8", ["QUInt8Storage"] = "quint8", ["QInt32Storage"] = "qint32",
        ["QUInt4x2Storage"] = "quint4x2", ["QUInt2x4Storage"] = "quint2x4",
    };

    private static long _order;

    /// <summary>Every global a torch.save pickle may name, with the constructor registered for it.</summary>
    private static readonly Dictionary<string, IObjectConstructor> Allowed = CreateAllowed();

#pragma warning disable CA1810 // the registration must run once, before the first load, and the field initialisers first
    static TorchPickle()
#pragma warning restore CA1810
    {
        foreach (var (name, constructor) in Allowed)
        {
            int dot = name.LastIndexOf('.');
            Unpickler.registerConstructor(name[..dot], name[(dot + 1)..], constructor);
        }
    }

    /// <summary>Unpickles <paramref name="pickle"/> after checking that it names only allowed globals.</summary>
    /// <exception cref="InvalidDataException">The pickle names another global (the message names it), or is malformed.</exception>
    public static object? Load(byte[] pickle)
    {
        string? refused = PickleGlobals.FirstRefused(pickle, name => Allowed.ContainsKey(name) || name == "_codecs.encode");
        if (refused is not null)
        {
            throw new InvalidDataException($"holds a {refused} (unsupported); save a tensor or a dict of tensors");
        }

        try
        {
            using var unpickler = new StorageUnpickler();
            return unpickler.loads(pickle);
        }
        catch (Exception e) when (e is not (InvalidDataException or OutOfMemoryException))
        {
            // Razorvine's answer to a malformed pickle may be any exception (a cast, an index, its own).
            throw new InvalidDataException($"malformed pickle ({e.GetType().Name}: {e.Message.Split('\n')[0]})", e);
        }
    }

    private static Dictionary<string, IObjectConstructor> CreateAllowed()
    {
        var byName = Elements.ToDictionary(e => e.Name);
        var allowed = new Dictionary<string, IObjectConstructor>(StringComparer.Ordinal)
        {
            ["torch._utils._rebuild_tensor_v2"] = new RebuildTensor(dtypeArgument: false),
            ["torch._utils._rebuild_tensor_v3"] = new RebuildTensor(dtypeArgument: true),
            ["torch._utils._rebuild_parameter"] = new RebuildParameter(),
            ["collections.OrderedDict"] = new OrderedDictConstructor(),
        };
        foreach (var (storage, element) in StorageClasses)
        {
            allowed["torch." + storage] = new TorchStorageClass("torch." + storage, byName[element]);
        }

        allowed[Untyped] = new TorchStorageClass(Untyped, byName["uint8"]);

        foreach (var element in Elements)
        {
            allowed["torch." + element.Name] = new TorchDTypeGlobal(element);
        }

        return allowed;
    }

    internal static long Integer(object? value, string what) => value switch
    {
        int i => i,
        long l => l,
        BigInteger b when b >= long.MinValue && b <= long.MaxValue => (long)b,
        _ => throw new InvalidDataException($"{what} is not an integer ({Describe(value)})"),
    };

    /// <summary>A value's Python type, for messages.</summary>
    internal static string Describe(object? value) => value switch
    {
        null => "None",
        bool => "bool",
        int or long or BigInteger => "int",
        double => "float",
        string => "str",
        byte[] => "bytes",
        object[] => "tuple",
        ArrayList => "list",
        Hashtable => "dict",
        TorchTensorRecord => "tensor",
        TorchStorage => "storage",
        TorchStorageClass c => c.Global,
        TorchDTypeGlobal d => "torch." + d.Element.Name,
        _ => value.GetType().Name,
    };

    private static long[] Dims(object? value, string what)
    {
        if (value is not object[] tuple)
        {
            throw new InvalidDataException($"a tensor's {what} is not a tuple ({Describe(value)})");
        }

        var dims = new long[tuple.Length];
        for (int i = 0; i < dims.Length; i++)
        {
            dims[i] = Integer(tuple[i], $"a tensor's {what} entry");
            if (dims[i] < 0)
            {
                throw new InvalidDataException($"a tensor's {what} entry is negative ({dims[i]})");
            }
        }

        return dims;
    }

    /// <summary>torch.save's persistent ids: ('storage', storage class, key, location, numel).</summary>
    private sealed class StorageUnpickler : Unpickler
    {
        protected override object persistentLoad(object pid)
        {
            if (pid is not object[] { Length: 5 } id || id[0] is not "storage")
            {
                throw new InvalidDataException($"a persistent id is not ('storage', class, key, location, numel) ({Describe(pid)})");
            }

            if (id[1] is not TorchStorageClass storageClass)
            {
                throw new InvalidDataException($"a storage's class is {Describe(id[1])}, not a torch storage class");
            }

            if (id[2] is not string key || id[3] is not string)
            {
                throw new InvalidDataException("a storage's key or location is not a string");
            }

            long elements = Integer(id[4], $"storage '{key}''s length");
            return elements < 0
                ? throw new InvalidDataException($"storage '{key}' has a negative length ({elements})")
                : new TorchStorage(key, storageClass, elements);
        }
    }

    /// <summary>
    /// _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata]);
    /// _rebuild_tensor_v3 takes the dtype after backward_hooks, its storage untyped.
    /// </summary>
    private sealed class RebuildTensor(bool dtypeArgument) : IObjectConstructor
    {
        public object construct(object[] args)
        {
            int count = dtypeArgument ? 7 : 6;
            if (args.Length != count && args.Length != count + 1)
            {
                throw new InvalidDataException($"a tensor record has {args.Length} arguments, not {count} or {count + 1}");
            }

            if (args[0] is not TorchStorage storage)
            {
                throw new InvalidDataException($"a tensor's storage is {Describe(args[0])}");
            }

            var element = storage.Class.Element;
            if (dtypeArgument)
            {
                element = args[6] is TorchDTypeGlobal dtype
                    ? dtype.Element
                    : throw new InvalidDataException($"a tensor's dtype is {Describe(args[6])}");
                if (storage.Class.Global != Untyped)
                {
                    throw new InvalidDataException($"a tensor with a dtype argument has a typed storage ({storage.Class.Global})");
                }
            }

            long offset = Integer(args[1], "a tensor's storage offset");
            if (offset < 0)
            {
                throw new InvalidDataException($"a tensor's storage offset is negative ({offset})");
            }

            var shape = Dims(args[2], "size");
            var strides = Dims(args[3], "stride");
            if (strides.Length != shape.Length)
            {
                throw new InvalidDataException($"a tensor has {shape.Length} sizes but {strides.Length} strides");
            }

            return new TorchTensorRecord(storage, offset, shape, strides, element, Interlocked.Increment(ref _order));
        }
    }

    /// <summary>_rebuild_parameter(data, requires_grad, backward_hooks): a torch.nn.Parameter is read as its tensor.</summary>
    private sealed class RebuildParameter : IObjectConstructor
    {
        public object construct(object[] args) => args is [TorchTensorRecord tensor, ..] && args.Length == 3
            ? tensor
            : throw new InvalidDataException("a parameter record is not (tensor, requires_grad, backward_hooks)");
    }

    private sealed class OrderedDictConstructor : IObjectConstructor
    {
        public object construct(object[] args) => args.Length == 0
            ? new PickledOrderedDict()
            : throw new InvalidDataException($"collections.OrderedDict is called with {args.Length} arguments; torch.save writes none");
    }
}
