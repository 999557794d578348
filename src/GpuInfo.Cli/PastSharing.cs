using System.Text.Json.Nodes;
using GpuInfo.Models;

namespace GpuInfo.Cli;

/// <summary>
/// How a run's models reused their KV cache over requests grouped by document (<see cref="ModelRowSource.SharesPrefixes"/>),
/// reported as <c>past_reuse</c> (how, or "none: " and why not) and <c>shared_tokens</c> (tokens not run again).
/// </summary>
internal sealed class PastSharing
{
    private bool _shared;

    public long Tokens { get; private set; }

    public void Add(ModelRowSource source)
    {
        _shared |= source.SharesPrefixes;
        Tokens += source.SharedTokens;
    }

    /// <summary>Whether the requests (in documents where <paramref name="documents"/>) run in their order, sharing their first tokens: the model, and the base where given, reuse their past.</summary>
    public static bool Applies(OnnxLanguageModel model, OnnxLanguageModel? reference, bool documents) =>
        documents && model.ReusesPast && (reference?.ReusesPast ?? true);

    public void AddTo(JsonObject report, OnnxLanguageModel model, OnnxLanguageModel? reference)
    {
        report["past_reuse"] = _shared || !model.ReusesPast ? model.PastReuse
            : reference is { ReusesPast: false } ? $"none: the base does not reuse its past ({reference.PastReuse[6..]}), so the requests run longest first"
            : "none: the requests are not in documents of several choices";
        report["shared_tokens"] = Tokens;
    }
}
