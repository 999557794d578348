namespace GpuInfo.Cli;

internal static class Program
{
    public static int Main(string[] args) => 0;
}
