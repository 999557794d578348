using System.Runtime.InteropServices;
using GpuInfo.Corpus;
using GpuInfo.Models;

namespace GpuInfo.Tests.Models;

public sealed unsafe class LogitsBufferTests
{
    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void A_block_is_handed_the_rows_of_its_window_and_position(ScalarType type)
    {
        const int Vocab = 7, Length = 5, Windows = 3;
        using var buffer = new LogitsBuffer(type, Windows * Length * Vocab) { FirstWindow = 4, Windows = Windows, Length = Length };
        var values = Enumerable.Range(0, Windows * Length * Vocab).Select(i => (float)(i - 50)).ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            Write(buffer, i, values[i]);
        }

        var block = new RowBlock(4, Vocab, type, hasTargets: false);
        block.Reset(firstRow: 0, rows: 3);
        buffer.Hand(block, window: 5, position: 2, rows: 3, Vocab);
        var expected = values.AsSpan(((1 * Length) + 2) * Vocab, 3 * Vocab).ToArray();
        Assert.Equal(expected, ReadBack(block, type));
        Assert.Equal(1, buffer.Users);
        Assert.Equal(values[^1], buffer[values.Length - 1]);
        Assert.Throws<ArgumentOutOfRangeException>(() => buffer.Hand(block, window: 6, position: 3, rows: 3, Vocab));
    }

    /// <summary>
    /// One window of 524,289 positions over 4,096 classes: its last row starts at value 2^31, past any
    /// array. The memory is reserved, not touched, except the pages written here.
    /// </summary>
    [Fact]
    public void Rows_beyond_two_to_the_31_values_are_handed_out()
    {
        const int Vocab = 4096, Length = (1 << 19) + 1;
        LogitsBuffer buffer;
        try
        {
            buffer = new LogitsBuffer(ScalarType.Float16, (long)Length * Vocab) { FirstWindow = 0, Windows = 1, Length = Length };
        }
        catch (InsufficientMemoryException e)
        {
            Assert.Skip($"this machine cannot reserve 4.3 GB of address space: {e.Message}");
            return;
        }

        using (buffer)
        {
            long first = (long)(Length - 1) * Vocab;
            Assert.True(first > int.MaxValue);
            for (int v = 0; v < Vocab; v++)
            {
                Write(buffer, first + v, v % 97);
            }

            var block = new RowBlock(1, Vocab, ScalarType.Float16, hasTargets: false);
            block.Reset(firstRow: 0, rows: 1);
            buffer.Hand(block, window: 0, position: Length - 1, rows: 1, Vocab);
            Assert.Equal(Enumerable.Range(0, Vocab).Select(v => (float)(v % 97)).ToArray(), ReadBack(block, ScalarType.Float16));
            Assert.Equal(96f, buffer[first + 96]);
        }
    }

    [Fact]
    public void A_batch_larger_than_the_address_space_is_refused_naming_its_size()
    {
        var e = Assert.Throws<InsufficientMemoryException>(() => new LogitsBuffer(ScalarType.Float32, 1L << 60));
        Assert.Contains("a batch's logits (1152921504606846976 values, 4611686018.4 GB) do not fit in memory", e.Message);
    }

    private static void Write(LogitsBuffer buffer, long index, float value)
    {
        byte* at = (byte*)buffer.Address + (index * buffer.ElementBytes);
        switch (buffer.Type)
        {
            case ScalarType.Float32:
                *(float*)at = value;
                break;
            case ScalarType.Float16:
                *(Half*)at = (Half)value;
                break;
            default:
                *(ushort*)at = (ushort)(BitConverter.SingleToInt32Bits(value) >>> 16);
                break;
        }
    }

    private static float[] ReadBack(RowBlock block, ScalarType type) => type switch
    {
        ScalarType.Float32 => MemoryMarshal.Cast<byte, float>(block.Bytes).ToArray(),
        ScalarType.Float16 => [.. MemoryMarshal.Cast<byte, Half>(block.Bytes).ToArray().Select(h => (float)h)],
        _ => [.. MemoryMarshal.Cast<byte, ushort>(block.Bytes).ToArray().Select(b => BitConverter.Int32BitsToSingle(b << 16))],
    };
}
