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
    /// <c>acc</c>, <c>acc_stderr</c> (lm-evaluation-harness's <c>mean_stderr</c>: the sample standard deviation over
    /// √n), <c>perplexity</c>, <c>mean_loglikelihood</c>, and the requests and their tokens.
    /// </summary>
    public JsonObject Report()
    {
        int n = Requests;
        double greedy = Enumerable.Range(0, n).Count(IsGreedy);
        double acc = greedy / n;
        double variance = n > 1 ? (greedy * (1 - acc) * (1 - acc) + (n - greedy) * acc * acc) / (n - 1) : double.NaN;
        double mean = _loglikelihood.Sum() / n;
        long truncated = Enumerable.Range(0, n).Count(d => Truncated(d));
        return new JsonObject
        {
            ["requests"] = n,
            ["acc"] = Json.Number(acc),
            ["acc_stderr"] = Json.Number(Math.Sqrt(variance / n)),
            ["perplexity"] = Json.Number(Math.Exp(-mean)),
            ["mean_loglikelihood"] = Json.Number(mean),
            ["continuation_tokens"] = _windows.Rows,
            ["context_tokens"] = Enumerable.Range(0, n).Sum(d => (long)ContextTokens(d)),
            ["truncated"] = truncated,
        };
    }

    /// <summary>Writes one JSON line per request.</summary>
    public void Write(string path, IReadOnlyList<string> names)
    {
        var lines = Enumerable.Range(0, Requests).Select(d => Json.Line(new JsonObject
        {
            ["request"] = d,
            ["name"] = names[d],
            ["loglikelihood"] = Json.Number(_loglikelihood[d]),
            ["is_greedy"] = IsGreedy(d),
            ["continuation_tokens"] = _windows.DocumentRows(d),
            ["context_tokens"] = ContextTokens(d),
            ["truncated"] = Truncated(d),
        }));
        string partial = path + ".partial";
        try
        {
            File.WriteAllLines(partial, lines);
            File.Move(partial, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            File.Delete(partial);
            throw CliException.Usage($"{path}: cannot write: {e.Message}");
        }
    }

    /// <summary>The request's one window.</summary>
    private int Window(int request) => _windows.Locate(_windows.DocumentFirstRow(request)).Window;

    /// <summary>The context's tokens the model saw: the window's inputs before the continuation's.</summary>
    private int ContextTokens(int request) => _windows.Length(Window(request)) - (int)(_windows.DocumentRows(request) - 1);

    /// <summary>Whether the context was cut from the left to fit the window.</summary>
    private bool Truncated(int request) => _windows.Begin(Window(request)) > _starts[request];
}
