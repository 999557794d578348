namespace GpuInfo.Backends;

/// <summary>
/// A place where row-wise measures run: the SIMD CPU path or an ILGPU accelerator. Inputs are
/// validated and pinned by the facade; a backend computes what the job asks for and writes it.
/// </summary>
internal interface IRowBackend : IDisposable
{
    /// <summary>Single-input measures: log-sum-exp, entropy, cross-entropy (+ gradient), argmax.</summary>
    void Score(in ScoreJob job);

    /// <summary>Two-input measures: KL both ways, JS, top-1 of each, and target log-probs.</summary>
    void Compare(in CompareJob job);
}
