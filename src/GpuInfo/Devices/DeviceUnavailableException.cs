namespace GpuInfo;

/// <summary>The requested accelerator is absent, unusable, or ran out of memory.</summary>
public sealed class DeviceUnavailableException : Exception
{
    public DeviceUnavailableException()
    {
    }

    public DeviceUnavailableException(string message)
        : base(message)
    {
    }

    public DeviceUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
