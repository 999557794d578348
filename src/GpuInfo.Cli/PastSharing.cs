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

    public void AddTo(JsonObject report, OnnxLanguageModel model, ModelWindowOptions windows)
    {
        report["past_reuse"] = _shared || !model.ReusesPast ? model.PastReuse
            : windows.Batch > 1 ? $"none: --batch {windows.Batch} runs requests longest first, several at once (a document's share their first tokens with --batch 1)"
            : "none: the requests are not in documents of several choices";
        report["shared_tokens"] = Tokens;
    }
}
