namespace GpuInfo.Corpus;

/// <summary>
/// How a source describes itself in partials: a kind ("tensor-files", "memory", ...), its shape and
/// value type, the files it reads and the settings that change which value scores which row (e.g.
/// shift). Merging refuses partials whose descriptions differ in anything but file paths.
/// </summary>
public sealed record SourceDescription(
    string Kind,
    long Rows,
    int Vocab,
    ScalarType Type,
    RowValueKind Values,
    IReadOnlyList<FileFingerprint> Files,
    IReadOnlyDictionary<string, string> Settings);
