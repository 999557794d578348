using GpuInfo.Kernels;

namespace GpuInfo.Tests.Kernels;

/// <summary>
/// The host-side arithmetic of the wide loads, exhaustively over small cases: how a slice is cut
/// into head, aligned chunks and tail, where a view's phase comes from, and which logit each lane
/// of a 16-byte load is.
/// </summary>
public sealed class WideSliceTests
{
    [Theory]
    [InlineData(4)]
    [InlineData(8)]
    public void Every_column_is_read_once_and_every_chunk_is_aligned(int width)
    {
        foreach (int vocab in new[] { 1, 3, 7, 8, 9, 13, 16, 61 })
        {
            foreach (int splits in new[] { 1, 2, 3, 5 })
            {
                var shape = new SliceShape(vocab, splits);
                for (int phase = -1; phase < width; phase++)
                {
                    for (int group = 0; group < 4 * splits; group++)
                    {
                        var slice = new RowSlice(group, splits, shape.SplitLength, vocab);
                        var wide = new WideSlice(slice, width, phase);
                        int length = Math.Max(0, slice.End - slice.Begin);
                        string where = $"vocab {vocab} splits {splits} phase {phase} group {group}";
                        Assert.True(wide.BodyBegin >= slice.Begin && wide.BodyBegin <= slice.Begin + length, "head " + where);
                        Assert.True(wide.BodyEnd >= wide.BodyBegin && wide.BodyEnd <= slice.Begin + length, "body " + where);
                        Assert.Equal(0, (wide.BodyEnd - wide.BodyBegin) % width);
                        if (phase < 0)
                        {
                            Assert.Equal(wide.BodyBegin, wide.BodyEnd);
                            continue;
                        }

                        // As few scalar columns as alignment allows: a head and a tail each shorter than a chunk.
                        if (wide.BodyEnd > wide.BodyBegin)
                        {
                            Assert.Equal(0, (phase + slice.RowOffset + wide.BodyBegin) % width);
                        }

                        Assert.True(wide.BodyBegin - slice.Begin < width, "long head " + where);
                        Assert.True(slice.Begin + length - wide.BodyEnd < width || wide.BodyBegin == wide.BodyEnd, "long tail " + where);
                    }
                }
            }
        }
    }

    [Fact]
    public void A_phase_comes_from_the_byte_offset_and_two_inputs_must_share_it()
    {
        Assert.Equal(0, WideLoad.Phase<float>(0, 4));
        Assert.Equal(3, WideLoad.Phase<float>(12, 4));
        Assert.Equal(-1, WideLoad.Phase<float>(6, 4)); // not on a float boundary: nothing is read wide
        Assert.Equal(5, WideLoad.Phase<ushort>(10, 8));
        Assert.Equal(1, WideLoad.Phase<ushort>(10, 4)); // a bf16 input beside float32 one: 8-byte cycle
        Assert.Equal(1, WideLoad.Phase<float, ushort>(4, 2, 4));
        Assert.Equal(-1, WideLoad.Phase<float, ushort>(4, 4, 4));
        Assert.Equal(4, WideLoad.Width<float>());
        Assert.Equal(8, WideLoad.Width<ILGPU.Half>());
        Assert.Equal(4, WideLoad.Width<float, ushort>());
        Assert.Equal(8, WideLoad.Width<ushort, ILGPU.Half>());
    }

    [Fact]
    public void Lanes_are_the_logits_in_memory_order()
    {
        float[] f32 = [1.5f, float.NegativeInfinity, -2.25f, 3e5f];
        var words = Words<float>(f32);
        for (int k = 0; k < 4; k++)
        {
            Assert.Equal(f32[k], WideLoad.Lane<float, Float32Loader>(words, k));
        }

        float[] values = [1.5f, float.NegativeInfinity, -2.25f, 100f, -0.0078125f, 0f, 7f, -65504f];
        var halves = values.Select(v => (Half)v).ToArray();
        var halfWords = Words<Half>(halves);
        var bf16 = values.Select(BFloat16Bits.FromSingle).ToArray();
        var bfWords = Words<ushort>(bf16);
        for (int k = 0; k < 8; k++)
        {
            Assert.Equal((float)halves[k], WideLoad.Lane<ILGPU.Half, Float16Loader>(halfWords, k));
            Assert.Equal(BFloat16Bits.ToSingle(bf16[k]), WideLoad.Lane<ushort, BFloat16Loader>(bfWords, k));
        }
    }

    private static Words16 Words<T>(T[] values)
        where T : unmanaged
    {
        var bytes = System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan());
        return System.Runtime.InteropServices.MemoryMarshal.Read<Words16>(bytes);
    }
}
