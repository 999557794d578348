namespace GpuInfo.Kernels;

/// <summary>Max of the raw logits and the first column holding it (torch.argmax returns the first).</summary>
public struct ArgMaxTracker
{
    public float Value;
    public int Index;

    public static ArgMaxTracker Empty => new() { Value = float.NegativeInfinity, Index = int.MaxValue };

    public void Add(float x, int column)
    {
        if (x > Value)
        {
            Value = x;
            Index = column;
        }
    }

    public static ArgMaxTracker Merge(ArgMaxTracker a, ArgMaxTracker b)
    {
        bool takeB = b.Value > a.Value || (b.Value == a.Value && b.Index < a.Index);
        return takeB ? b : a;
    }

    /// <summary>The argmax, or 0 for a row of all -inf (torch.argmax also returns 0 there).</summary>
    public readonly int Result => Index == int.MaxValue ? 0 : Index;
}
