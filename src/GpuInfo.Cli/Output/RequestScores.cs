using System.Text.Json.Nodes;
using GpuInfo.Models;

namespace GpuInfo.Cli.Output;

/// <summary>
/// Each loglikelihood request's score from a run's rows (<see cref="WindowProtocol.Continuation"/>: a request's rows
/// are its continuation's tokens): its log-likelihood, minus the sum of their losses, and whether every one of them
/// is the model's top-1 choice (lm-evaluation-harness's <c>is_greedy</c>); and over the requests that harness's
/// <c>acc</c> (the mean of <c>is_greedy</c>, with its <c>acc_stderr</c>) and <c>perplexity</c> (exp of minus the
/// mean log-likelihood).
/// </summary>
internal sealed class RequestScores
{
    private readonly ModelWindows _windows;
    private readonly int[] _ids;
    private readonly IReadOnlyList<long> _starts;
    private readonly double[] _loglikelihood;
    private readonly int[] _missed;
    private long _lossRows;
    private long _argMaxRows;

    public RequestScores(ModelWindows windows, TokenizedText text)
    {
        _windows = windows;
        _ids = text.Ids;
        _starts = text.DocumentStarts;
        _loglikelihood = new double[windows.Documents];
        _missed = new int[windows.Documents];
    }

    /// <summary>Adds a chunk's losses to their requests.</summary>
    public void AddLosses(long firstRow, ReadOnlySpan<float> losses)
    {
        for (int i = 0; i < losses.Length; i++)
        {
            _loglikelihood[_windows.DocumentOfRow(firstRow + i)] -= losses[i];
        }

        _lossRows += losses.Length;
    }

    /// <summary>Counts, per request, the rows of a chunk whose top-1 class is not their target.</summary>
    public void AddArgMax(long firstRow, ReadOnlySpan<int> classes)
    {
        for (int i = 0; i < classes.Length; i++)
        {
            long row = firstRow + i;
            if (classes[i] != _ids[_windows.TokenOfRow(row)])
            {
                _missed[_windows.DocumentOfRow(row)]++;
            }
        }

        _argMaxRows += classes.Length;
    }

    /// <summary>Throws unless every row was counted once by both handlers.</summary>
    public void Check(long evaluated)
    {
        if (_lossRows != _windows.Rows || _argMaxRows != _windows.Rows || evaluated != _windows.Rows)
        {
            throw new InvalidOperationException($"{_windows.Rows} rows, {_lossRows} losses, {_argMaxRows} top-1 classes and {evaluated} evaluated.");
        }
    }

    public int Requests => _windows.Documents;

    public double LogLikelihood(int request) => _loglikelihood[request];

    public bool IsGreedy(int request) => _missed[request] == 0;

    /// <summary>
    /// Each request a document (LAMBADA's): <c>requests</c>, <c>acc</c> (the share of greedy requests), <c>acc_stderr</c>,
    /// <c>perplexity</c> (exp of minus the mean log-likelihood) and <c>mean_loglikelihood</c>.
    /// </summary>
    public JsonObject Report()
    {
        int n = Requests;
        var greedy = Enumerable.Range(0, n).Select(d => IsGreedy(d) ? 1.0 : 0.0).ToArray();
        double mean = _loglikelihood.Sum() / n;
        return new JsonObject
        {
            ["requests"] = n,
            ["acc"] = Json.Number(greedy.Average()),
            ["acc_stderr"] = Json.Number(MeanStderr(greedy)),
            ["perplexity"] = Json.Number(Math.Exp(-mean)),
            ["mean_loglikelihood"] = Json.Number(mean),
        };
    }

    /// <summary>The requests' tokens: <c>continuation_tokens</c>, <c>context_tokens</c> (as the model saw them) and <c>truncated</c> (requests whose context was cut).</summary>
    public void AddTokens(JsonObject report)
    {
        report["continuation_tokens"] = _windows.Rows;
        report["context_tokens"] = Enumerable.Range(0, Requests).Sum(d => (long)ContextTokens(d));
        report["truncated"] = Enumerable.Range(0, Requests).Count(Truncated);
    }

    /// <summary>One JSON line per request.</summary>
    public IEnumerable<JsonObject> Lines(IReadOnlyList<string> names) => Enumerable.Range(0, Requests).Select(d => new JsonObject
    {
        ["document"] = d,
        ["name"] = names[d],
        ["loglikelihood"] = Json.Number(_loglikelihood[d]),
        ["is_greedy"] = IsGreedy(d),
        ["continuation_tokens"] = ContinuationTokens(d),
        ["context_tokens"] = ContextTokens(d),
        ["truncated"] = Truncated(d),
    });

    /// <summary>lm-evaluation-harness's <c>mean_stderr</c>: the sample standard deviation (n − 1) over √n; null for one value.</summary>
    public static double MeanStderr(IReadOnlyList<double> values)
    {
        int n = values.Count;
        if (n < 2)
        {
            return double.NaN;
        }

        double mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (n - 1) / n);
    }

    public long ContinuationTokens(int request) => _windows.DocumentRows(request);

    /// <summary>The context's tokens the model saw: the window's inputs before the continuation's.</summary>
    public int ContextTokens(int request) => _windows.Length(Window(request)) - (int)(_windows.DocumentRows(request) - 1);

    /// <summary>Whether the context was cut from the left to fit the window.</summary>
    public bool Truncated(int request) => _windows.Begin(Window(request)) > _starts[request];

    /// <summary>The request's one window.</summary>
    private int Window(int request) => _windows.Locate(_windows.DocumentFirstRow(request)).Window;
}
