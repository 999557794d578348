namespace GpuInfo.Corpus;

/// <summary>How far a corpus run is: rows and bytes of row values done, of the shard's totals.</summary>
public readonly record struct CorpusProgress(long Rows, long Bytes, long TotalRows, long TotalBytes);
