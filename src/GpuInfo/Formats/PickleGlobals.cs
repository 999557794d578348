using System.Buffers.Binary;
using System.Text;

namespace GpuInfo.Formats;

/// <summary>
/// The classes and functions a pickle names (its GLOBAL, INST and STACK_GLOBAL opcodes), found by
/// stepping over its opcodes without running any of them, so that a pickle naming anything outside
/// an allow-list is refused before an unpickler sees it. Also checks that the opcodes are whole and
/// end at the pickle's STOP. A STACK_GLOBAL must take its two names from the strings pushed (or
/// fetched from the memo) right before it, as Python's pickler writes them; any other is refused.
/// </summary>
internal static class PickleGlobals
{
    private enum Arg
    {
        None,
        Fixed1,
        Fixed2,
        Fixed4,
        Fixed8,
        Line,
        TwoLines,
        Counted1,
        Counted4,
        Counted8,
    }

    /// <summary>The first name, in opcode order, that <paramref name="allowed"/> refuses; null when all are allowed.</summary>
    /// <exception cref="InvalidDataException">The pickle is truncated, has an unknown opcode, bytes after its STOP, or a STACK_GLOBAL whose names are not literal strings.</exception>
    public static string? FirstRefused(ReadOnlySpan<byte> pickle, Func<string, bool> allowed)
    {
        var memo = new Dictionary<long, string?>();
        string? previous = null, last = null;
        int at = 0;
        while (true)
        {
            if (at >= pickle.Length)
            {
                throw new InvalidDataException("the pickle ends before its STOP opcode (truncated)");
            }

            byte op = pickle[at++];
            if (op == (byte)'.')
            {
                return at == pickle.Length ? null : throw new InvalidDataException($"{pickle.Length - at} bytes follow the pickle's STOP opcode");
            }

            var argument = ArgumentOf(op) ?? throw new InvalidDataException($"unknown pickle opcode 0x{op:x2} at byte {at - 1}");
            var data = Take(pickle, ref at, argument);
            string? pushed = null;
            switch (op)
            {
                case (byte)'c' or (byte)'i':
                    string global = Latin1(data).Replace('\n', '.');
                    if (!allowed(global))
                    {
                        return global;
                    }

                    break;
                case 0x93:
                    string stacked = previous is not null && last is not null
                        ? previous + "." + last
                        : throw new InvalidDataException($"a STACK_GLOBAL at byte {at - 1} does not follow two literal strings");
                    if (!allowed(stacked))
                    {
                        return stacked;
                    }

                    break;
                case 0x8c or (byte)'X' or 0x8d:
                    pushed = Utf8(data);
                    break;
                case (byte)'h':
                    pushed = memo.GetValueOrDefault(data[0]);
                    break;
                case (byte)'j':
                    pushed = memo.GetValueOrDefault(BinaryPrimitives.ReadUInt32LittleEndian(data));
                    break;
                case (byte)'q':
                    memo[data[0]] = last;
                    continue;
                case (byte)'r':
                    memo[BinaryPrimitives.ReadUInt32LittleEndian(data)] = last;
                    continue;
                case 0x94:
                    memo[memo.Count] = last;
                    continue;
                case 0x95 or 0x80:
                    continue;
            }

            previous = pushed is null ? null : last;
            last = pushed;
        }
    }

    private static Arg? ArgumentOf(byte op) => op switch
    {
        // MARK POP POP_MARK DUP NONE REDUCE APPEND BUILD DICT EMPTY_DICT APPENDS LIST EMPTY_LIST OBJ
        // SETITEM TUPLE EMPTY_TUPLE SETITEMS BINPERSID
        (byte)'(' or (byte)'0' or (byte)'1' or (byte)'2' or (byte)'N' or (byte)'R' or (byte)'a' or (byte)'b'
            or (byte)'d' or (byte)'}' or (byte)'e' or (byte)'l' or (byte)']' or (byte)'o' or (byte)'s'
            or (byte)'t' or (byte)')' or (byte)'u' or (byte)'Q' => Arg.None,

        // NEWOBJ TUPLE1-3 NEWTRUE NEWFALSE EMPTY_SET ADDITEMS FROZENSET NEWOBJ_EX STACK_GLOBAL MEMOIZE
        // NEXT_BUFFER READONLY_BUFFER
        0x81 or 0x85 or 0x86 or 0x87 or 0x88 or 0x89 or 0x8f or 0x90 or 0x91 or 0x92 or 0x93 or 0x94
            or 0x97 or 0x98 => Arg.None,

        // PROTO BININT1 BINGET BINPUT EXT1 | BININT2 EXT2 | BININT LONG_BINGET LONG_BINPUT EXT4 | BINFLOAT FRAME
        0x80 or (byte)'K' or (byte)'h' or (byte)'q' or 0x82 => Arg.Fixed1,
        (byte)'M' or 0x83 => Arg.Fixed2,
        (byte)'J' or (byte)'j' or (byte)'r' or 0x84 => Arg.Fixed4,
        (byte)'G' or 0x95 => Arg.Fixed8,

        // INT LONG FLOAT STRING UNICODE PERSID GET PUT | GLOBAL INST
        (byte)'I' or (byte)'L' or (byte)'F' or (byte)'S' or (byte)'V' or (byte)'P' or (byte)'g' or (byte)'p' => Arg.Line,
        (byte)'c' or (byte)'i' => Arg.TwoLines,

        // SHORT_BINSTRING SHORT_BINBYTES SHORT_BINUNICODE LONG1 | BINSTRING BINUNICODE BINBYTES LONG4 |
        // BINUNICODE8 BINBYTES8 BYTEARRAY8
        (byte)'U' or (byte)'C' or 0x8c or 0x8a => Arg.Counted1,
        (byte)'T' or (byte)'X' or (byte)'B' or 0x8b => Arg.Counted4,
        0x8d or 0x8e or 0x96 => Arg.Counted8,
        _ => null,
    };

    private static ReadOnlySpan<byte> Take(ReadOnlySpan<byte> pickle, ref int at, Arg argument)
    {
        long length = argument switch
        {
            Arg.None => 0,
            Arg.Fixed1 => 1,
            Arg.Fixed2 => 2,
            Arg.Fixed4 => 4,
            Arg.Fixed8 => 8,
            Arg.Line => LineLength(pickle, at, 1),
            Arg.TwoLines => LineLength(pickle, at, 2),
            Arg.Counted1 => Counted(pickle, ref at, 1),
            Arg.Counted4 => Counted(pickle, ref at, 4),
            _ => Counted(pickle, ref at, 8),
        };
        if (length > pickle.Length - at)
        {
            throw new InvalidDataException($"the pickle ends inside an opcode's argument at byte {at} (truncated)");
        }

        var data = pickle.Slice(at, (int)length);
        at += (int)length;
        return argument is Arg.Line or Arg.TwoLines ? data[..^1] : data;
    }

    /// <summary>The bytes up to and including the <paramref name="lines"/>-th newline.</summary>
    private static long LineLength(ReadOnlySpan<byte> pickle, int at, int lines)
    {
        int end = at;
        for (int k = 0; k < lines; k++)
        {
            int newline = pickle[end..].IndexOf((byte)'\n');
            if (newline < 0)
            {
                return long.MaxValue;
            }

            end += newline + 1;
        }

        return end - at;
    }

    private static long Counted(ReadOnlySpan<byte> pickle, ref int at, int width)
    {
        if (pickle.Length - at < width)
        {
            return long.MaxValue;
        }

        var size = pickle.Slice(at, width);
        at += width;
        return width switch
        {
            1 => size[0],
            4 => BinaryPrimitives.ReadInt32LittleEndian(size) is int n and >= 0 ? n : long.MaxValue,
            _ => BinaryPrimitives.ReadInt64LittleEndian(size) is long m and >= 0 ? m : long.MaxValue,
        };
    }

    private static string Latin1(ReadOnlySpan<byte> data) => Encoding.Latin1.GetString(data);

    private static string Utf8(ReadOnlySpan<byte> data) => Encoding.UTF8.GetString(data);
}
