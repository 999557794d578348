using GpuInfo.Formats;

namespace GpuInfo.Corpus;

/// <summary>
/// Logits in a <c>.npy</c>, <c>.safetensors</c> or torch.save <c>.pt</c> file (<c>[N, V]</c> or <c>[B, T, V]</c>; F32, F16,
/// BF16 read as stored, F64 narrowed to float32) with optional integer targets (<c>[N]</c> or
/// <c>[B, T]</c>). Row i scores target i; with <see cref="FileRowSourceOptions.Shift"/>, position t of
/// each sequence scores the target at t + 1 and the last position scores nothing (a causal LM's
/// logits against its own input ids). Both files are validated when opened.
/// </summary>
public sealed class FileRowSource : RowSource
{
    private readonly LogitsFile _logits;
    private readonly TargetsFile? _targets;
    private readonly TargetsFile? _bytes;
    private readonly bool _shift;
    private readonly Task<FileFingerprint[]> _fingerprints;

    private FileRowSource(LogitsFile logits, TargetsFile? targets, TargetsFile? bytes, FileRowSourceOptions options)
    {
        _logits = logits;
        _targets = targets;
        _bytes = bytes;
        _shift = options.Shift;

        // Hashing the headers starts the platform's crypto library (about 10 ms): off the critical path.
        _fingerprints = Task.Run(() => new[]
            {
                logits.Header is { } header
                    ? FileFingerprint.OfStream("logits", logits.Path, logits.Info.DataOffset + logits.Info.ByteLength, header)
                    : FileFingerprint.Of("logits", logits.Path, logits.Info.HeaderBytes),
                targets is null ? null : FileFingerprint.Of("targets", targets.Path, targets.Info.HeaderBytes),
                bytes is null ? null : FileFingerprint.Of("target_bytes", bytes.Path, bytes.Info.HeaderBytes),
            }.OfType<FileFingerprint>().ToArray());
    }

    public override long Rows => _logits.Rows;

    public override int Vocab => _logits.Vocab;

    public override ScalarType Type => _logits.Type;

    public override bool HasTargets => _targets is not null;

    public override bool HasTargetBytes => _bytes is not null;

    public override string Name => _logits.Path;

    public override string TargetsName => _targets?.Path ?? Name;

    public override bool IsPipe => _logits.IsPipe;

    /// <summary>The logits tensor's shape, e.g. "[4, 512, 50257]".</summary>
    public string ShapeText => _logits.Info.ShapeText;

    /// <exception cref="InvalidFileException">A file is missing or malformed, or the targets do not match the logits one to one.</exception>
    /// <exception cref="ArgumentException">Shift over sequences shorter than 2 positions.</exception>
    public static FileRowSource Open(string logitsPath, string? targetsPath = null, FileRowSourceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(logitsPath);
        var o = options ?? new FileRowSourceOptions();
        Check(targetsPath, o);
        return WithTargets(LogitsFile.Open(logitsPath, o.LogitsTensor), targetsPath, o);
    }

    /// <summary>
    /// Logits streamed as a .npy through a pipe (see <see cref="LogitsFile.OpenPipe"/>), with targets
    /// from files; <paramref name="name"/> names the stream in errors. Takes ownership of the stream.
    /// </summary>
    /// <exception cref="InvalidFileException">The stream is not .npy logits, or a targets file is missing, malformed or does not match.</exception>
    /// <exception cref="ArgumentException">A tensor name (a .npy stream holds one tensor), or shift over sequences shorter than 2 positions.</exception>
    public static FileRowSource OpenPipe(Stream logits, string name, string? targetsPath = null, FileRowSourceOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(name);
        var o = options ?? new FileRowSourceOptions();
        try
        {
            if (o.LogitsTensor is not null)
            {
                throw new ArgumentException($"{name} is a .npy stream, which holds one tensor: it takes no tensor name.", nameof(options));
            }

            Check(targetsPath, o);
        }
        catch
        {
            logits.Dispose();
            throw;
        }

        return WithTargets(LogitsFile.OpenPipe(logits, name), targetsPath, o);
    }

    private static void Check(string? targetsPath, FileRowSourceOptions options)
    {
        if (options.Shift && targetsPath is null)
        {
            throw new ArgumentException("shift needs targets.", nameof(options));
        }

        if (options.TargetBytesPath is not null && targetsPath is null)
        {
            throw new ArgumentException("per-token byte counts need targets.", nameof(options));
        }
    }

    private static FileRowSource WithTargets(LogitsFile logits, string? targetsPath, FileRowSourceOptions o)
    {
        TargetsFile? targets = null, bytes = null;
        try
        {
            if (targetsPath is not null)
            {
                targets = TargetsFile.Open(targetsPath, o.TargetsTensor);
                if (targets.Count != logits.Rows)
                {
                    throw new InvalidFileException(targets.Path,
                        $"holds {targets.Count} targets but {logits.Path} has {logits.Rows} rows of logits ({logits.Info.ShapeText}); they must match one to one.");
                }

                // As many targets in another shape ([T, B] against [B, T, V], or [B, T] against
                // flattened [B·T, V]) would pair rows with the wrong targets, or shift across sequences.
                var rowsShape = logits.Info.Shape[..^1];
                if (targets.Info.Rank != 1 && !targets.Info.Shape.SequenceEqual(rowsShape))
                {
                    throw new InvalidFileException(targets.Path,
                        $"holds targets of shape {targets.Info.ShapeText}, but the rows of {logits.Path} ({logits.Info.ShapeText}) are [{string.Join(", ", rowsShape)}]; give the targets in that shape, or flattened to [{logits.Rows}].");
                }

                if (o.Shift && logits.SequenceLength < 2)
                {
                    throw new ArgumentException($"shift needs sequences of at least 2 positions; {logits.Path} has {logits.Info.ShapeText}.", "options");
                }
            }

            if (o.TargetBytesPath is not null)
            {
                bytes = TargetsFile.Open(o.TargetBytesPath, role: "byte counts");
                if (!bytes.Info.Shape.SequenceEqual(targets!.Info.Shape))
                {
                    throw new InvalidFileException(bytes.Path, $"holds byte counts of shape {bytes.Info.ShapeText}, but the targets ({targets.Path}) are {targets.Info.ShapeText}.");
                }
            }

            return new FileRowSource(logits, targets, bytes, o);
        }
        catch
        {
            bytes?.Dispose();
            targets?.Dispose();
            logits.Dispose();
            throw;
        }
    }

    public override SourceDescription Describe()
    {
        var files = _fingerprints.GetAwaiter().GetResult();
        var settings = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["shape"] = _logits.Info.ShapeText,
            ["stored_dtype"] = _logits.Info.DType.SafetensorsName(),
            ["shift"] = _shift ? "true" : "false",
        };
        AddTensorName(settings, "logits_tensor", _logits.Info);
        if (_logits.IsPipe)
        {
            settings["input"] = "pipe";
        }

        if (_targets is not null)
        {
            AddTensorName(settings, "targets_tensor", _targets.Info);
        }

        return new SourceDescription("tensor-files", Rows, Vocab, Type, Values, files, settings);
    }

    /// <summary>A .safetensors file, or a .pt file of a dict, may hold several tensors: which one was read matters; a .npy file holds one.</summary>
    private static void AddTensorName(SortedDictionary<string, string> settings, string key, TensorInfo info)
    {
        if (info.Named)
        {
            settings[key] = info.Name;
        }
    }

    /// <summary>The most bytes of text a token's count may say it stands for.</summary>
    private const long MaxTokenBytes = 1L << 40;

    protected internal override void Read(RowBlock block)
    {
        _logits.ReadInto(block.FirstRow, block.Rows, block.Buffer);
        if (_targets is null)
        {
            return;
        }

        ReadPlanned(_targets, block.FirstRow, block.Targets, NoTarget);
        if (_bytes is not null)
        {
            ReadPlanned(_bytes, block.FirstRow, block.TargetBytes, 0);
            for (int i = 0; i < block.TargetBytes.Length; i++)
            {
                // A token stands for a few bytes: a count beyond 2^40 (a terabyte) is damage, and would overflow the sums.
                if (block.TargetBytes[i] is < 0 or > MaxTokenBytes)
                {
                    throw new InvalidFileException(_bytes.Path, $"the byte count of row {block.FirstRow + i}, {block.TargetBytes[i]}, is {(block.TargetBytes[i] < 0 ? "negative" : "beyond 2^40, not a token's")}.");
                }
            }
        }
    }

    /// <summary>Values of a per-token file for rows [first, first + destination.Length): value i, or under shift value i + 1 and <paramref name="none"/> at each sequence's end.</summary>
    private void ReadPlanned(TargetsFile file, long first, Span<long> destination, long none)
    {
        if (!_shift)
        {
            file.Read(first, destination);
            return;
        }

        long available = Math.Min(destination.Length, file.Count - (first + 1));
        file.Read(first + 1, destination[..(int)available]);
        long t = _logits.SequenceLength;
        for (int i = 0; i < destination.Length; i++)
        {
            if ((first + i) % t == t - 1)
            {
                destination[i] = none;
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // The fingerprints' task opens the files itself: once this returns, nothing may hold them.
            try
            {
                _fingerprints.Wait();
            }
            catch (AggregateException)
            {
                // A file that cannot be fingerprinted fails Describe, not Dispose.
            }

            _logits.Dispose();
            _targets?.Dispose();
            _bytes?.Dispose();
        }
    }
}
