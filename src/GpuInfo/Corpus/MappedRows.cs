using System.Buffers;
using System.IO.MemoryMappedFiles;
using GpuInfo.Formats;

namespace GpuInfo.Corpus;

/// <summary>
/// A logits file's rows mapped into memory, read-only, as a <see cref="MemoryRowSource"/>: passes
/// over them read the page cache in place, with no copy into a buffer and no reader thread. The
/// mapped pages are the page cache's own (a file read in full already holds them there), counted in
/// the process's RSS once touched, and reclaimable by the kernel like any clean file page.
/// </summary>
internal sealed unsafe class MappedRows : IDisposable
{
    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly byte* _pointer;

    private MappedRows(LogitsFile logits)
    {
        _file = MemoryMappedFile.CreateFromFile(logits.Path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        try
        {
            _view = _file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _pointer);
        }
        catch
        {
            _view?.Dispose();
            _file.Dispose();
            throw;
        }

        long values = logits.Rows * logits.Vocab;
        byte* rows = _pointer + _view.PointerOffset + logits.Info.DataOffset;
        Source = logits.Type switch
        {
            ScalarType.Float32 => MemoryRowSource.Float32(new PointerMemory<float>((float*)rows, (int)values).Memory, logits.Vocab, name: logits.Path),
            ScalarType.Float16 => MemoryRowSource.Float16(new PointerMemory<Half>((Half*)rows, (int)values).Memory, logits.Vocab, name: logits.Path),
            _ => MemoryRowSource.BFloat16(new PointerMemory<ushort>((ushort*)rows, (int)values).Memory, logits.Vocab, name: logits.Path),
        };
    }

    /// <summary>The rows, valid until this is disposed.</summary>
    public RowSource Source { get; }

    /// <summary>
    /// The rows of <paramref name="logits"/> mapped, or null where they are not stored as read (float64
    /// is narrowed on reading), take more than <paramref name="maxBytes"/>, or exceed a span's length.
    /// </summary>
    public static MappedRows? TryMap(LogitsFile logits, long maxBytes)
    {
        long bytes = logits.Rows * logits.RowBytes;
        if (logits.Info.DType == DType.Float64 || bytes > maxBytes || logits.Rows * logits.Vocab > Array.MaxLength)
        {
            return null;
        }

        return new MappedRows(logits);
    }

    public void Dispose()
    {
        Source.Dispose();
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }

    /// <summary>Memory over mapped pages; the mapping outlives every use of it.</summary>
    private sealed class PointerMemory<T>(T* pointer, int length) : MemoryManager<T>
        where T : unmanaged
    {
        public override Span<T> GetSpan() => new(pointer, length);

        public override MemoryHandle Pin(int elementIndex = 0) => new(pointer + elementIndex);

        public override void Unpin()
        {
        }

        protected override void Dispose(bool disposing)
        {
        }
    }
}
