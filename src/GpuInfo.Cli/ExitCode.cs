namespace GpuInfo.Cli;

/// <summary>The documented exit codes of gpuinfo.</summary>
public static class ExitCode
{
    public const int Ok = 0;
    public const int Internal = 1;
    public const int Usage = 2;
    public const int BadData = 3;
    public const int Device = 4;
}
