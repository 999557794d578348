using System.Text;
using GpuInfo.Formats;

namespace GpuInfo.Models;

/// <summary>
/// The files an ONNX model keeps its weights in beside the model file (external data: every model
/// over 2 GB, often model.onnx_data), read from the model's protobuf: each initializer or attribute
/// tensor (also of a sparse tensor, or in a function) whose data_location is EXTERNAL names its file
/// in external_data's "location". Partials
/// fingerprint them, since two models of one architecture share the same graph file byte for byte.
/// Fields are skipped by seeking, so a model with its weights inline (up to 2 GB) costs a walk over
/// its field headers, not a read: 0.3 ms for a 1.9 GB model, where Google.Protobuf's
/// CodedInputStream, which reads skipped fields through, took 1.0 s from the page cache.
/// </summary>
internal static class OnnxExternalData
{
    // Field numbers of onnx.proto3.
    private const int ModelGraph = 7, ModelFunctions = 25;
    private const int FunctionNode = 7;
    private const int GraphNode = 1, GraphInitializer = 5, GraphSparseInitializer = 15;
    private const int NodeAttribute = 5;
    private const int AttributeTensor = 5, AttributeGraph = 6, AttributeTensors = 10, AttributeGraphs = 11, AttributeSparseTensor = 22, AttributeSparseTensors = 23;
    private const int SparseValues = 1, SparseIndices = 2;
    private const int TensorExternalData = 13, TensorDataLocation = 14;
    private const int EntryKey = 1, EntryValue = 2;
    private const int External = 1;
    private const int MaxDepth = 64;

    private const int Varint = 0, Fixed64 = 1, Length = 2, Fixed32 = 5;

    /// <summary>The external data files' paths, relative to the model's folder, each once, in order.</summary>
    /// <exception cref="InvalidFileException">The file is not a protobuf message as ONNX writes one.</exception>
    public static IReadOnlyList<string> Locations(string modelPath)
    {
        FileStream stream;
        try
        {
            stream = new FileStream(modelPath, FileMode.Open, System.IO.FileAccess.Read, FileShare.Read, 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidFileException(modelPath, $"cannot be read: {e.Message}");
        }

        using (stream)
        {
            var walk = new Walk(stream, modelPath);
            walk.Fields(stream.Length, 0, (field, wire, end) => wire == Length && field switch
            {
                ModelGraph => walk.Graph(end, 1),
                ModelFunctions => walk.Nodes(end, 1, FunctionNode),
                _ => false,
            });
            return walk.Locations;
        }
    }

    private sealed class Walk(Stream stream, string path)
    {
        public List<string> Locations { get; } = [];

        public bool Graph(long end, int depth)
        {
            Fields(end, depth, (field, wire, fieldEnd) => wire == Length && field switch
            {
                GraphInitializer => Tensor(fieldEnd, depth),
                GraphSparseInitializer => SparseTensor(fieldEnd, depth),
                GraphNode => Node(fieldEnd, depth + 1),
                _ => false,
            });
            return true;
        }

        /// <summary>A message whose field <paramref name="nodeField"/> holds nodes (a FunctionProto's).</summary>
        public bool Nodes(long end, int depth, int nodeField)
        {
            Fields(end, depth, (field, wire, fieldEnd) => field == nodeField && wire == Length && Node(fieldEnd, depth + 1));
            return true;
        }

        private bool SparseTensor(long end, int depth)
        {
            Fields(end, depth, (field, wire, fieldEnd) => wire == Length && field is SparseValues or SparseIndices && Tensor(fieldEnd, depth));
            return true;
        }

        private bool Node(long end, int depth)
        {
            Fields(end, depth, (field, wire, fieldEnd) => field == NodeAttribute && wire == Length && Attribute(fieldEnd, depth + 1));
            return true;
        }

        private bool Attribute(long end, int depth)
        {
            Fields(end, depth, (field, wire, fieldEnd) => wire == Length && field switch
            {
                AttributeTensor or AttributeTensors => Tensor(fieldEnd, depth),
                AttributeSparseTensor or AttributeSparseTensors => SparseTensor(fieldEnd, depth),
                AttributeGraph or AttributeGraphs => Graph(fieldEnd, depth + 1),
                _ => false,
            });
            return true;
        }

        private bool Tensor(long end, int depth)
        {
            string? location = null;
            bool external = false;
            Fields(end, depth, (field, wire, fieldEnd) =>
            {
                if (field == TensorDataLocation && wire == Varint)
                {
                    external = ReadVarint() == External;
                    return true;
                }

                if (field == TensorExternalData && wire == Length)
                {
                    var (key, value) = Entry(fieldEnd, depth);
                    location = key == "location" ? value : location;
                    return true;
                }

                return false;
            });
            if (external && location is not null && !Locations.Contains(location))
            {
                Locations.Add(location);
            }

            return true;
        }

        private (string? Key, string? Value) Entry(long end, int depth)
        {
            string? key = null, value = null;
            Fields(end, depth, (field, wire, fieldEnd) =>
            {
                if (wire == Length && field is EntryKey or EntryValue)
                {
                    string text = ReadString(fieldEnd);
                    (key, value) = field == EntryKey ? (text, value) : (key, text);
                    return true;
                }

                return false;
            });
            return (key, value);
        }

        /// <summary>
        /// Reads the fields up to <paramref name="end"/>; <paramref name="visit"/> gets a field's number,
        /// wire type and (for a length-delimited field) its end, and returns false to have it skipped.
        /// </summary>
        public void Fields(long end, int depth, Func<int, int, long, bool> visit)
        {
            if (depth > MaxDepth)
            {
                throw Bad($"nests graphs deeper than {MaxDepth}");
            }

            while (stream.Position < end)
            {
                ulong tag = ReadVarint();
                int field = (int)(tag >> 3), wire = (int)(tag & 7);
                long fieldEnd = -1;
                if (wire == Length)
                {
                    ulong length = ReadVarint();
                    long remaining = end - stream.Position;
                    fieldEnd = remaining >= 0 && length <= (ulong)remaining ? stream.Position + (long)length : long.MaxValue;
                }
                else if (stream.Position > end)
                {
                    throw Bad("has a field that runs past its message");
                }

                if (fieldEnd > end)
                {
                    throw Bad("has a field that runs past its message");
                }

                long start = stream.Position;
                if (!visit(field, wire, fieldEnd))
                {
                    stream.Position = start;
                    Skip(wire, fieldEnd);
                }
                else if (wire == Length)
                {
                    stream.Position = fieldEnd;
                }
            }

            if (stream.Position != end)
            {
                throw Bad("has a field that runs past its message");
            }
        }

        private void Skip(int wire, long fieldEnd)
        {
            switch (wire)
            {
                case Varint:
                    ReadVarint();
                    break;
                case Fixed64:
                    stream.Seek(8, SeekOrigin.Current);
                    break;
                case Length:
                    stream.Position = fieldEnd;
                    break;
                case Fixed32:
                    stream.Seek(4, SeekOrigin.Current);
                    break;
                default:
                    throw Bad($"has a field of wire type {wire}, which ONNX does not write");
            }
        }

        private ulong ReadVarint()
        {
            ulong value = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                int b = stream.ReadByte();
                if (b < 0)
                {
                    throw Bad("ends inside a field");
                }

                value |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80)
                {
                    return value;
                }
            }

            throw Bad("has a varint longer than 10 bytes");
        }

        private string ReadString(long end)
        {
            long length = end - stream.Position;
            if (length > 4096)
            {
                throw Bad($"has an external data entry of {length} bytes");
            }

            var bytes = new byte[length];
            stream.ReadExactly(bytes);
            return Encoding.UTF8.GetString(bytes);
        }

        private InvalidFileException Bad(string problem) => new(path, $"{problem} at byte {stream.Position}: not an ONNX model as protobuf writes one.");
    }
}
