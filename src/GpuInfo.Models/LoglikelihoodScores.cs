using GpuInfo.Corpus;

namespace GpuInfo.Models;

/// <summary>
/// Each loglikelihood request's score (<see cref="LoglikelihoodRequests"/>, <see cref="WindowProtocol.Continuation"/>: a
/// request's rows are its continuation's tokens): its log-likelihood, minus the sum of their losses, and whether every one
/// of them is the model's top-1 choice (lm-evaluation-harness's <c>is_greedy</c>, the first of equal logits as
/// <c>torch.argmax</c>), from one corpus run's fused pass (<see cref="CorpusRunOptions.PerRowArgMax"/>).
/// </summary>
public sealed class LoglikelihoodScores
{
    private readonly ModelWindows _windows;
    private readonly TokenizedText _text;
    private readonly double[] _loglikelihood;
    private readonly int[] _missed;

    private LoglikelihoodScores(ModelWindows windows, TokenizedText text)
    {
        _windows = windows;
        _text = text;
        _loglikelihood = new double[windows.Documents];
        _missed = new int[windows.Documents];
    }

    /// <summary>Scores every request of <paramref name="source"/>'s text (made by <see cref="LoglikelihoodRequests.Encode"/>) on the engines.</summary>
    /// <exception cref="ArgumentException">A source whose windows are not <see cref="WindowProtocol.Continuation"/>'s.</exception>
    public static LoglikelihoodScores Run(IReadOnlyList<InfoEngine> engines, ModelRowSource source, IProgress<CorpusProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (source.Windows.Protocol != WindowProtocol.Continuation)
        {
            throw new ArgumentException($"the source's windows are {source.Windows.Protocol}'s; requests are scored in WindowProtocol.Continuation's.", nameof(source));
        }

        var scores = new LoglikelihoodScores(source.Windows, source.Text);
        long losses = 0, classes = 0;
        var partial = CorpusRun.Evaluate(engines, source, new CrossEntropyOptions(), new CorpusRunOptions
        {
            PerRow = (first, values) => losses += scores.AddLosses(first, values),
            PerRowArgMax = (first, values) => classes += scores.AddArgMax(first, values),
            Progress = progress,
        }, cancellationToken);
        if (losses != source.Rows || classes != source.Rows || partial.Evaluation!.Tokens != source.Rows)
        {
            throw new InvalidOperationException($"{source.Rows} rows, {losses} losses, {classes} top-1 classes and {partial.Evaluation!.Tokens} evaluated.");
        }

        scores.Tokens = partial.Evaluation.Tokens;
        return scores;
    }

    public int Requests => _windows.Documents;

    /// <summary>The continuation tokens scored, every request's together.</summary>
    public long Tokens { get; private set; }

    public double LogLikelihood(int request) => _loglikelihood[Request(request)];

    public bool IsGreedy(int request) => _missed[Request(request)] == 0;

    public long ContinuationTokens(int request) => _windows.DocumentRows(Request(request));

    /// <summary>The context's tokens the model saw: the window's inputs before the continuation's.</summary>
    public int ContextTokens(int request) => _windows.Length(Window(request)) - (int)(_windows.DocumentRows(request) - 1);

    /// <summary>Whether the context was cut from the left to fit the window, as lm-evaluation-harness cuts it.</summary>
    public bool Truncated(int request) => _windows.Begin(Window(request)) > _text.DocumentStarts[request];

    /// <summary>Request <paramref name="request"/>'s score, every figure above.</summary>
    public RequestScore Score(int request) => new(LogLikelihood(request), IsGreedy(request), ContinuationTokens(request), ContextTokens(request), Truncated(request));

    private int AddLosses(long firstRow, ReadOnlySpan<float> losses)
    {
        for (int i = 0; i < losses.Length; i++)
        {
            _loglikelihood[_windows.DocumentOfRow(firstRow + i)] -= losses[i];
        }

        return losses.Length;
    }

    private int AddArgMax(long firstRow, ReadOnlySpan<int> classes)
    {
        for (int i = 0; i < classes.Length; i++)
        {
            long row = firstRow + i;
            if (classes[i] != _text.Ids[_windows.TokenOfRow(row)])
            {
                _missed[_windows.DocumentOfRow(row)]++;
            }
        }

        return classes.Length;
    }

    /// <summary>The request's one window.</summary>
    private int Window(int request) => _windows.Locate(_windows.DocumentFirstRow(Request(request))).Window;

    private int Request(int request) => request >= 0 && request < Requests ? request
        : throw new ArgumentOutOfRangeException(nameof(request), request, $"not one of the {Requests} requests.");
}
