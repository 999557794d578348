namespace PackCheck;

/// <summary>A check that failed; its message is the one line the script reports.</summary>
internal sealed class CheckFailedException(string message) : Exception(message);
