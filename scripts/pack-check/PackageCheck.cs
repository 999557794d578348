using System.IO.Compression;
using System.Xml.Linq;

namespace PackCheck;

/// <summary>
/// Every package in the folder feed: the version asked for, a licence expression, its readme, a
/// description and tags; a library also its assembly, XML docs and a symbols package; the tool's
/// pointer package names one package per platform, each of them present; and no package holds a
/// native .pdb (portable PDBs of our own assemblies are fine) or a .lib.
/// </summary>
internal static class PackageCheck
{
    public static List<string> Run(string feed, string version)
    {
        var paths = Directory.GetFiles(feed, "*.nupkg").Order(StringComparer.Ordinal).ToList();
        var libraries = new List<string>();
        var tools = new List<string>();
        foreach (string path in paths)
        {
            string file = Path.GetFileName(path);
            using var zip = ZipFile.OpenRead(path);
            var nuspec = Nuspec(zip, file);
            string id = Meta(nuspec, "id", file);
            Require(Meta(nuspec, "version", file) == version, $"packages: {file} has version {Meta(nuspec, "version", file)}, not {version}");
            CheckMetadata(zip, nuspec, file);
            CheckNoNativeSymbols(zip, file);
            switch (nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == "packageType")?.Attribute("name")?.Value)
            {
                case null:
                    CheckLibrary(zip, id, feed, version, file);
                    libraries.Add(id);
                    break;
                case "DotnetTool":
                    tools.Add(CheckToolPointer(zip, id, feed, version, file));
                    break;
                case "DotnetToolRidPackage":
                    break;   // checked through its pointer package
                case var other:
                    throw new CheckFailedException($"packages: {file} has an unexpected package type {other}");
            }
        }

        Require(libraries.Contains("GpuInfo"), $"packages: no GpuInfo library package in {feed}");
        Require(tools.Count > 0, $"packages: no tool package in {feed}");
        return
        [
            $"packages: libraries {string.Join(", ", libraries)}: MIT expression, readme, description, tags, XML docs, .snupkg",
            .. tools,
            $"packages: {paths.Count} packages, no native .pdb or .lib in any",
        ];
    }

    private static void CheckMetadata(ZipArchive zip, XElement nuspec, string file)
    {
        var licence = nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == "license");
        Require(licence?.Attribute("type")?.Value == "expression" && licence.Value == "MIT", $"packages: {file} has no MIT licence expression");
        string readme = Meta(nuspec, "readme", file);
        Require(zip.GetEntry(readme) != null, $"packages: {file} names readme {readme} but does not hold it");
        Meta(nuspec, "description", file);
        Meta(nuspec, "tags", file);
    }

    private static void CheckLibrary(ZipArchive zip, string id, string feed, string version, string file)
    {
        Require(HasLibFile(zip, $"{id}.dll"), $"packages: {file} has no lib/*/{id}.dll");
        Require(HasLibFile(zip, $"{id}.xml"), $"packages: {file} has no XML docs lib/*/{id}.xml");
        string symbols = Path.Combine(feed, $"{id}.{version}.snupkg");
        Require(File.Exists(symbols), $"packages: no symbols package {Path.GetFileName(symbols)}");
        using var snupkg = ZipFile.OpenRead(symbols);
        Require(HasLibFile(snupkg, $"{id}.pdb"), $"packages: {Path.GetFileName(symbols)} has no lib/*/{id}.pdb");
    }

    private static string CheckToolPointer(ZipArchive zip, string id, string feed, string version, string file)
    {
        var settings = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("/DotnetToolSettings.xml", StringComparison.Ordinal))
            ?? throw new CheckFailedException($"packages: tool package {file} has no DotnetToolSettings.xml");
        using var stream = settings.Open();
        var doc = XElement.Load(stream);
        var rids = doc.Descendants("RuntimeIdentifierPackage")
            .Select(e => (Rid: e.Attribute("RuntimeIdentifier")?.Value ?? "", Id: e.Attribute("Id")?.Value ?? ""))
            .ToList();
        Require(rids.Count > 0, $"packages: {file} is not a platform-specific tool (no RuntimeIdentifierPackages)");
        foreach (var (_, ridId) in rids)
        {
            Require(File.Exists(Path.Combine(feed, $"{ridId}.{version}.nupkg")), $"packages: {file} points to {ridId}, which was not packed");
        }

        string command = doc.Descendants("Command").FirstOrDefault()?.Attribute("Name")?.Value ?? "?";
        return $"packages: tool {id} ({command}) as {rids.Count} platform packages: {string.Join(", ", rids.Select(r => r.Rid))}";
    }

    private static void CheckNoNativeSymbols(ZipArchive zip, string file)
    {
        foreach (var entry in zip.Entries)
        {
            Require(!entry.FullName.EndsWith(".lib", StringComparison.OrdinalIgnoreCase), $"packages: {file} holds the import library {entry.FullName}");
            if (entry.FullName.EndsWith(".pdb", StringComparison.OrdinalIgnoreCase))
            {
                // Portable PDBs (ours, a few KB) start with the metadata signature "BSJB"; native ones do not.
                var magic = new byte[4];
                using var s = entry.Open();
                s.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
                Require(magic.AsSpan().SequenceEqual("BSJB"u8), $"packages: {file} holds the native symbol file {entry.FullName} ({entry.Length / 1048576.0:F1} MiB)");
            }
        }
    }

    private static bool HasLibFile(ZipArchive zip, string name) =>
        zip.Entries.Any(e => e.FullName.StartsWith("lib/", StringComparison.Ordinal) && e.Name == name);

    private static XElement Nuspec(ZipArchive zip, string file)
    {
        var entry = zip.Entries.FirstOrDefault(e => !e.FullName.Contains('/', StringComparison.Ordinal) && e.Name.EndsWith(".nuspec", StringComparison.Ordinal))
            ?? throw new CheckFailedException($"packages: {file} has no .nuspec");
        using var stream = entry.Open();
        return XElement.Load(stream);
    }

    private static string Meta(XElement nuspec, string name, string file)
    {
        string? value = nuspec.Descendants().FirstOrDefault(e => e.Name.LocalName == name)?.Value;
        return string.IsNullOrWhiteSpace(value) ? throw new CheckFailedException($"packages: {file} has no <{name}>") : value;
    }

    private static void Require(bool ok, string failure)
    {
        if (!ok)
        {
            throw new CheckFailedException(failure);
        }
    }
}
