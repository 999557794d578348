using GpuInfo.Formats;

namespace GpuInfo.Tests.Formats;

/// <summary>The opcode scan that names a pickle's globals before anything unpickles it.</summary>
public sealed class PickleGlobalsTests
{
    private static readonly Func<string, bool> OnlyOrderedDict = name => name == "collections.OrderedDict";

    [Fact]
    public void Names_the_first_global_that_is_not_allowed()
    {
        // PROTO 2, GLOBAL collections.OrderedDict, EMPTY_TUPLE, REDUCE, POP, GLOBAL os.system, STOP
        byte[] pickle = [0x80, 2, .. "ccollections\nOrderedDict\n)R0cos\nsystem\n."u8];
        Assert.Equal("os.system", PickleGlobals.FirstRefused(pickle, OnlyOrderedDict));
        Assert.Null(PickleGlobals.FirstRefused([0x80, 2, .. "ccollections\nOrderedDict\n)R."u8], OnlyOrderedDict));
    }

    [Fact]
    public void Resolves_stack_globals_from_literal_and_memoized_strings()
    {
        // PROTO 4, 'collections' MEMOIZE, 'OrderedDict' MEMOIZE, STACK_GLOBAL, POP, then the same two
        // strings fetched from the memo (BINGET 0, BINGET 1), STACK_GLOBAL, STOP.
        byte[] pickle = [0x80, 4, 0x8c, 11, .. "collections"u8, 0x94, 0x8c, 11, .. "OrderedDict"u8, 0x94, 0x93, (byte)'0', (byte)'h', 0, (byte)'h', 1, 0x93, (byte)'.'];
        Assert.Null(PickleGlobals.FirstRefused(pickle, OnlyOrderedDict));
        byte[] other = [0x80, 4, 0x8c, 2, .. "os"u8, 0x94, 0x8c, 6, .. "system"u8, 0x94, 0x93, (byte)'.'];
        Assert.Equal("os.system", PickleGlobals.FirstRefused(other, OnlyOrderedDict));
    }

    [Theory]
    [InlineData(new byte[] { 0x80, 4, (byte)'N', 0x93, (byte)'.' }, "does not follow two literal strings")]
    [InlineData(new byte[] { 0x80, 2, (byte)'N', (byte)'.', 0 }, "1 bytes follow the pickle's STOP")]
    [InlineData(new byte[] { 0x80, 2, (byte)'N' }, "ends before its STOP")]
    [InlineData(new byte[] { 0x80, 2, (byte)'X', 9, 0, 0, 0, (byte)'a' }, "ends inside an opcode's argument")]
    [InlineData(new byte[] { 0x80, 2, (byte)'c', (byte)'o', (byte)'s' }, "ends inside an opcode's argument")]
    [InlineData(new byte[] { 0x80, 2, 0xff, (byte)'.' }, "unknown pickle opcode 0xff")]
    public void Refuses_pickles_it_cannot_step_through(byte[] pickle, string problem)
    {
        var e = Assert.Throws<InvalidDataException>(() => PickleGlobals.FirstRefused(pickle, OnlyOrderedDict));
        Assert.Contains(problem, e.Message, StringComparison.Ordinal);
    }
}
