using System.Numerics;
using System.Runtime.InteropServices;

namespace GpuInfo.Backends.Cpu;

/// <summary>The rank of a target in its row: how many entries are strictly larger (0 when the target is a maximum).</summary>
internal static class TargetRank
{
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static int Of(in RowsView view, long row, int target)
    {
        float threshold = BlockLoader.LoadOne(view, row, target);
        var scratch = BlockLoader.ScratchP;
        var vThreshold = new Vector<float>(threshold);
        int count = 0;
        for (int begin = 0; begin < view.Vocab; begin += BlockLoader.BlockSize)
        {
            var x = BlockLoader.Load(view, row, begin, Math.Min(BlockLoader.BlockSize, view.Vocab - begin), scratch);
            var vectors = MemoryMarshal.Cast<float, Vector<float>>(x);
            var greater = Vector<int>.Zero;
            foreach (var v in vectors)
            {
                greater -= Vector.GreaterThan(v, vThreshold); // all-ones lanes are -1
            }

            count += Vector.Sum(greater);
            for (int i = vectors.Length * Vector<float>.Count; i < x.Length; i++)
            {
                count += x[i] > threshold ? 1 : 0;
            }
        }

        return count;
    }
}
