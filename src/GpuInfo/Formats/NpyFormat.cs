using System.Text;

namespace GpuInfo.Formats;

/// <summary>
/// NumPy .npy (format versions 1.0, 2.0, 3.0): little-endian float16/32/64 and int32/64 in C order.
/// Fortran order and big-endian data are refused with a clear message.
/// </summary>
public static class NpyFormat
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Longest header accepted (NumPy itself refuses headers over 10,000 bytes by default).</summary>
    public const int MaxHeaderBytes = 1 << 20;

    public static TensorInfo Read(string path)
    {
        using var file = FileAccess.OpenRead(path);
        if (!file.CanSeek)
        {
            throw new InvalidFileException(path, "is a pipe, not a file: only the rows of eval, compare and ib (a .npy stream of logits or probabilities) can come from a pipe.");
        }

        long length = file.Length;
        var info = ReadHeader(file, path, length, out _);
        long expected = info.DataOffset + info.ByteLength;
        if (length != expected)
        {
            throw new InvalidFileException(path, length < expected
                ? $"truncated: shape {info.ShapeText} of {info.DType.SafetensorsName()} needs {info.ByteLength} data bytes, the file holds {length - info.DataOffset}."
                : $"{length - expected} unexpected bytes after the data of shape {info.ShapeText}.");
        }

        return info;
    }

    /// <summary>
    /// Reads a .npy header from the start of <paramref name="stream"/> (a pipe), leaving the stream
    /// at the first data byte (<see cref="TensorInfo.DataOffset"/>). The data's length cannot be
    /// checked here: the reader checks it as the data arrives.
    /// </summary>
    /// <param name="header">The header's bytes (prelude included), for fingerprints.</param>
    /// <exception cref="InvalidFileException">Not a .npy header, or one this does not read.</exception>
    public static TensorInfo ReadHeader(Stream stream, string path, out byte[] header) => ReadHeader(stream, path, null, out header);

    /// <summary>
    /// The tensor a .npy file holds, as <see cref="Read"/> gives it, except that a dtype GpuInfo does not
    /// read (int8, uint16, complex, strings) is described rather than refused: its
    /// <see cref="TensorInfo.Unsupported"/> names it, and its size is not checked (inspect lists it).
    /// </summary>
    public static TensorInfo Describe(string path)
    {
        using (var file = FileAccess.OpenRead(path))
        {
            if (file.CanSeek && ReadHeader(file, path, file.Length, out _, describeUnsupported: true) is { Unsupported: not null } unsupported)
            {
                return unsupported;
            }
        }

        return Read(path);
    }

    /// <param name="length">The file's length where it is known (a header longer than the file is then refused as truncated).</param>
    /// <param name="describeUnsupported">Whether a dtype GpuInfo does not read comes back named in <see cref="TensorInfo.Unsupported"/> (its DType a stand-in) rather than refused.</param>
    private static TensorInfo ReadHeader(Stream stream, string path, long? length, out byte[] header, bool describeUnsupported = false)
    {
        Span<byte> prefix = stackalloc byte[12];
        int got = FileAccess.ReadUpTo(stream, prefix[..10], path);
        if (got < 10 || !prefix[..6].SequenceEqual(Magic))
        {
            throw new InvalidFileException(path, "not a .npy file (the magic string \\x93NUMPY is missing).");
        }

        int major = prefix[6];
        if (major is < 1 or > 3 || prefix[7] != 0)
        {
            throw new InvalidFileException(path, $"unsupported .npy format version {major}.{prefix[7]} (1.0, 2.0 and 3.0 are supported).");
        }

        int prelude = major == 1 ? 10 : 12;
        if (major != 1)
        {
            got += FileAccess.ReadUpTo(stream, prefix[10..12], path);
        }

        long headerLength = major == 1
            ? BitConverter.ToUInt16(prefix.Slice(8, 2))
            : (got < 12 ? -1 : BitConverter.ToUInt32(prefix.Slice(8, 4)));
        if (headerLength < 0 || headerLength > MaxHeaderBytes || prelude + headerLength > (length ?? long.MaxValue))
        {
            string size = length is null ? "the stream" : $"the file ({length} bytes)";
            throw new InvalidFileException(path, $"header length {headerLength} does not fit {size}: truncated or corrupt.");
        }

        header = new byte[prelude + headerLength];
        prefix[..prelude].CopyTo(header);
        if (FileAccess.ReadUpTo(stream, header.AsSpan(prelude), path) < headerLength)
        {
            throw new InvalidFileException(path, $"the header ends early: truncated (it announces {headerLength} bytes).");
        }

        string text;
        try
        {
            text = (major == 3 ? new UTF8Encoding(false, true) : Encoding.Latin1).GetString(header, prelude, (int)headerLength);
        }
        catch (DecoderFallbackException)
        {
            throw new InvalidFileException(path, "the header is not valid UTF-8.");
        }

        var (descr, fortran, shape) = ParseHeader(path, text);
        if (describeUnsupported && !IsRead(descr))
        {
            return new TensorInfo(path, System.IO.Path.GetFileName(path), DType.Float32, shape, prelude + headerLength) { HeaderBytes = prelude + headerLength, Unsupported = descr };
        }

        var dtype = ParseDescr(path, descr);
        if (fortran && shape.Count(d => d != 1) > 1)
        {
            throw new InvalidFileException(path,
                "Fortran-order arrays are not supported; save a C-order copy (numpy.ascontiguousarray).");
        }

        var info = new TensorInfo(path, System.IO.Path.GetFileName(path), dtype, shape, prelude + headerLength) { HeaderBytes = prelude + headerLength };
        try
        {
            _ = checked(info.DataOffset + info.ByteLength);
        }
        catch (OverflowException)
        {
            throw new InvalidFileException(path, $"shape {info.ShapeText} is too large.");
        }

        return info;
    }

    /// <summary>Writes a C-order little-endian .npy (version 1.0, or 2.0 when the header needs it).</summary>
    public static void Write<T>(string path, ReadOnlySpan<T> data, long[] shape)
        where T : unmanaged
    {
        string descr = typeof(T) == typeof(float) ? "<f4"
            : typeof(T) == typeof(double) ? "<f8"
            : typeof(T) == typeof(Half) ? "<f2"
            : typeof(T) == typeof(int) ? "<i4"
            : typeof(T) == typeof(long) ? "<i8"
            : throw new ArgumentException($"cannot write {typeof(T).Name} to .npy", nameof(data));
        using var stream = File.Create(path);
        WriteHeader(stream, descr, shape);
        stream.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data));
    }

    /// <summary>Writes the header of a C-order .npy whose data the caller then appends.</summary>
    public static void WriteHeader(Stream stream, string descr, long[] shape)
    {
        string dims = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape) + ")";
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {dims}, }}";
        int major = dict.Length + 11 > ushort.MaxValue ? 2 : 1;
        int prelude = major == 1 ? 10 : 12;
        int padded = (prelude + dict.Length + 1 + 63) / 64 * 64;
        string header = dict.PadRight(padded - prelude - 1) + "\n";
        stream.Write(Magic);
        stream.WriteByte((byte)major);
        stream.WriteByte(0);
        if (major == 1)
        {
            stream.Write(BitConverter.GetBytes((ushort)header.Length));
        }
        else
        {
            stream.Write(BitConverter.GetBytes((uint)header.Length));
        }

        stream.Write(Encoding.Latin1.GetBytes(header));
    }

    /// <summary>Whether <paramref name="descr"/> is a dtype GpuInfo reads (little-endian or native float16/32/64, int32/64).</summary>
    private static bool IsRead(string descr) => descr.Length == 3 && descr[0] is '<' or '|' or '=' && descr[1..] is "f4" or "f2" or "f8" or "i4" or "i8";

    private static DType ParseDescr(string path, string descr)
    {
        if (descr.Length < 2)
        {
            throw new InvalidFileException(path, $"malformed dtype '{descr}'.");
        }

        char order = descr[0];
        string kind = descr[1..];
        if (order == '>' && kind is not ("i1" or "u1" or "b1"))
        {
            throw new InvalidFileException(path, $"big-endian dtype '{descr}' is not supported; save little-endian data.");
        }

        if (order is not ('<' or '|' or '='))
        {
            throw new InvalidFileException(path, $"malformed dtype '{descr}'.");
        }

        return kind switch
        {
            "f4" => DType.Float32,
            "f2" => DType.Float16,
            "f8" => DType.Float64,
            "i4" => DType.Int32,
            "i8" => DType.Int64,
            _ => throw new InvalidFileException(path,
                $"unsupported dtype '{descr}' (supported: float16, float32, float64, int32, int64)."),
        };
    }

    private static (string Descr, bool Fortran, long[] Shape) ParseHeader(string path, string text)
    {
        var parser = new PythonLiteral(text, path);
        var dict = parser.ParseDict();
        if (!dict.TryGetValue("descr", out var descr) || descr is not string d)
        {
            throw new InvalidFileException(path, "header has no 'descr' string.");
        }

        if (!dict.TryGetValue("fortran_order", out var fo) || fo is not bool fortran)
        {
            throw new InvalidFileException(path, "header has no 'fortran_order' boolean.");
        }

        if (!dict.TryGetValue("shape", out var sh) || sh is not long[] shape)
        {
            throw new InvalidFileException(path, "header has no 'shape' tuple.");
        }

        return (d, fortran, shape);
    }

    /// <summary>The tiny subset of Python literals a .npy header uses: a dict of str to str, bool or int tuple.</summary>
    private sealed class PythonLiteral(string text, string path)
    {
        private int _at;

        public Dictionary<string, object> ParseDict()
        {
            var dict = new Dictionary<string, object>();
            Expect('{');
            while (true)
            {
                Skip();
                if (Peek() == '}')
                {
                    _at++;
                    break;
                }

                string key = ParseString();
                Expect(':');
                dict[key] = ParseValue();
                Skip();
                if (Peek() == ',')
                {
                    _at++;
                    continue;
                }

                Expect('}');
                break;
            }

            Skip();
            if (_at != text.Length)
            {
                throw Error("unexpected text after the header dictionary");
            }

            return dict;
        }

        private object ParseValue()
        {
            Skip();
            char c = Peek();
            if (c is '\'' or '"')
            {
                return ParseString();
            }

            if (c == '(')
            {
                return ParseTuple();
            }

            if (Take("True"))
            {
                return true;
            }

            if (Take("False"))
            {
                return false;
            }

            throw Error($"unexpected '{c}'");
        }

        private long[] ParseTuple()
        {
            Expect('(');
            var items = new List<long>();
            while (true)
            {
                Skip();
                if (Peek() == ')')
                {
                    _at++;
                    return [.. items];
                }

                int start = _at;
                while (_at < text.Length && char.IsAsciiDigit(text[_at]))
                {
                    _at++;
                }

                if (start == _at || !long.TryParse(text.AsSpan(start, _at - start), out long dim))
                {
                    throw Error("shape entries must be non-negative integers");
                }

                if (_at < text.Length && text[_at] == 'L')
                {
                    _at++;
                }

                items.Add(dim);
                Skip();
                if (Peek() == ',')
                {
                    _at++;
                }
                else if (Peek() != ')')
                {
                    throw Error("malformed shape tuple");
                }
            }
        }

        private string ParseString()
        {
            Skip();
            char quote = Peek();
            if (quote is not ('\'' or '"'))
            {
                throw Error("expected a quoted string");
            }

            int end = text.IndexOf(quote, _at + 1);
            if (end < 0)
            {
                throw Error("unterminated string");
            }

            string s = text.Substring(_at + 1, end - _at - 1);
            _at = end + 1;
            return s;
        }

        private void Expect(char c)
        {
            Skip();
            if (Peek() != c)
            {
                throw Error($"expected '{c}'");
            }

            _at++;
        }

        private bool Take(string word)
        {
            if (string.CompareOrdinal(text, _at, word, 0, word.Length) == 0)
            {
                _at += word.Length;
                return true;
            }

            return false;
        }

        private char Peek() => _at < text.Length ? text[_at] : '\0';

        private void Skip()
        {
            while (_at < text.Length && char.IsWhiteSpace(text[_at]))
            {
                _at++;
            }
        }

        private InvalidFileException Error(string what) =>
            new(path, $"malformed .npy header ({what} at character {_at}).");
    }
}
