using System.Globalization;
using SkiaSharp;

namespace GpuInfo.Cli.Output;

/// <summary>Writes plots stacked as panels of one .svg or .png file (the extension chooses).</summary>
internal static class PlotFile
{
    /// <summary>Checks --plot's path before any work: a .svg or .png file that can be written.</summary>
    public static void Check(string? path)
    {
        if (path is not null && Path.GetExtension(path).ToLowerInvariant() is not (".svg" or ".png"))
        {
            throw CliException.Usage($"--plot must end in .svg or .png, got '{path}'.");
        }

        OutputFile.Check(path);
    }

    public static void Save(string path, IReadOnlyList<ScottPlot.Plot> panels, int width, int panelHeight)
    {
        try
        {
            if (Path.GetExtension(path).Equals(".svg", StringComparison.OrdinalIgnoreCase))
            {
                var svg = new System.Text.StringBuilder();
                svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{panelHeight * panels.Count}\">");
                for (int i = 0; i < panels.Count; i++)
                {
                    string inner = panels[i].GetSvgXml(width, panelHeight);
                    int open = inner.IndexOf("<svg", StringComparison.Ordinal);
                    svg.Append(inner[open..].Insert(4, string.Create(CultureInfo.InvariantCulture, $" x=\"0\" y=\"{i * panelHeight}\"")));
                }

                svg.Append("</svg>");
                File.WriteAllText(path, svg.ToString());
                return;
            }

            using var bitmap = new SKBitmap(width, panelHeight * panels.Count);
            using (var canvas = new SKCanvas(bitmap))
            {
                canvas.Clear(SKColors.White);
                for (int i = 0; i < panels.Count; i++)
                {
                    using var panel = SKBitmap.Decode(panels[i].GetImageBytes(width, panelHeight, ScottPlot.ImageFormat.Png));
                    canvas.DrawBitmap(panel, 0, i * panelHeight);
                }
            }

            using var png = bitmap.Encode(SKEncodedImageFormat.Png, 100);
            using var file = File.Create(path);
            png.SaveTo(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw CliException.Usage($"{path}: cannot write: {e.Message}");
        }
    }
}
