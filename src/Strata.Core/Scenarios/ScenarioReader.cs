using Strata.Core.Catalogs;
using Strata.Core.Hardware;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Strata.Core.Scenarios;

/// <summary>Turns the YAML of one scenario file into a <see cref="Scenario"/>, failing with file:line messages.</summary>
/// <remarks>One instance per file; not thread-safe. The aspects live in <c>ScenarioReader.*.cs</c>.</remarks>
internal sealed partial class ScenarioReader
{
    private static readonly string[] TopLevelKeys =
        ["name", "description", "seed", "catalog", "models", "devices", "machines", "clients", "links", "topology", "workload", "slos", "policies"];

    private readonly string _file;
    private readonly string _directory;
    private readonly Dictionary<string, DeviceSpec> _inlineDevices = new(StringComparer.OrdinalIgnoreCase);
    private Catalog _catalog;

    /// <summary>Creates a reader for the file at <paramref name="path"/> (named in messages, base of relative paths).</summary>
    public ScenarioReader(string path, Catalog catalog)
    {
        _file = path;
        _directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? Directory.GetCurrentDirectory();
        _catalog = catalog;
    }

    /// <summary>Parses and validates the text.</summary>
    public Scenario Read(string yamlText)
    {
        var root = ParseYaml(yamlText);
        var top = YamlMap.Of(this, root, string.Empty, TopLevelKeys);
        var name = top.RequiredString("name", "a non-empty string naming the scenario");
        var description = top.String("description");
        var seed = top.Integer("seed", 0) ?? 0;
        string? catalogPath = null;
        if (top.Get("catalog") is { } catalogNode)
        {
            catalogPath = ResolveFile(catalogNode, "catalog", "a catalog JSON file");
            _catalog = Resolve(catalogNode, "catalog", () => _catalog.WithFile(catalogPath));
        }

        var devices = ReadDevices(top);
        var links = ReadLinks(top);
        return new Scenario
        {
            Name = name,
            Description = description,
            Seed = seed,
            SourcePath = Path.GetFullPath(_file),
            CatalogPath = catalogPath,
            Catalog = _catalog,
            Models = ReadModels(top),
            Devices = devices,
            Machines = ReadMachines(top),
            Clients = ReadClients(top, links),
            Links = links,
            Topology = ReadTopology(top),
            Workload = ReadWorkload(top),
            Slos = ReadSlos(top),
            Policies = ReadPolicies(top),
        };
    }

    /// <summary>An error at <paramref name="node"/>'s line: <c>file:line: message</c>.</summary>
    public StrataException Error(YamlNode node, string message) => new($"{_file}:{node.Start.Line}: {message}");

    /// <summary>An error for a bad value: <c>file:line: field is value; expected ....</c></summary>
    public StrataException Invalid(YamlNode node, string field, string expected) =>
        Error(node, $"{field} is {YamlValues.Describe(node)}; expected {expected}.");

    private YamlNode ParseYaml(string yamlText)
    {
        var stream = new YamlStream();
        var parser = new Parser(new StringReader(yamlText));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException exception)
        {
            var reason = (exception.InnerException as YamlException)?.Message ?? exception.Message;
            reason = StripMark(reason).TrimEnd('.', ' ');
            throw new StrataException($"{_file}:{exception.Start.Line}:{exception.Start.Column}: not valid YAML: {reason}.", exception);
        }
        catch (InvalidOperationException exception)
        {
            // YamlDotNet's scanner fails this way (without a position) on some unterminated flow collections.
            var mark = parser.Current?.End ?? Mark.Empty;
            throw new StrataException($"{_file}:{mark.Line}:{mark.Column}: not valid YAML: the text ends inside an unfinished value (an unclosed '[', '{{' or quote?).", exception);
        }

        if (stream.Documents.Count == 0 || YamlValues.IsNull(stream.Documents[0].RootNode))
        {
            throw new StrataException($"{_file}:1: the file is empty; expected a mapping with at least 'name'.");
        }

        if (stream.Documents.Count > 1)
        {
            throw Error(stream.Documents[1].RootNode, "a second YAML document starts here; expected one scenario per file.");
        }

        return stream.Documents[0].RootNode;
    }

    // YamlDotNet prefixes messages with "(Line: 7, Col: 3, Idx: 40) - (Line: 7, Col: 4, Idx: 41): ".
    private static string StripMark(string message)
    {
        var marker = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith("(Line", StringComparison.Ordinal) && marker > 0 ? message[(marker + 3)..] : message;
    }

    /// <summary>Runs a catalog (or config) lookup, prefixing its error with file, line and field.</summary>
    private T Resolve<T>(YamlNode node, string field, Func<T> lookup)
    {
        try
        {
            return lookup();
        }
        catch (StrataException exception)
        {
            var message = exception.Message.StartsWith(field, StringComparison.Ordinal) ? exception.Message : $"{field}: {exception.Message}";
            throw new StrataException($"{_file}:{node.Start.Line}: {message}", exception, exception.ExitCode);
        }
    }

    /// <summary>An existing file named relative to the scenario file, as an absolute path.</summary>
    private string ResolveFile(YamlNode node, string field, string what)
    {
        var text = YamlValues.Text(node);
        if (string.IsNullOrWhiteSpace(text))
        {
            throw Invalid(node, field, $"the path of {what}, relative to the scenario file");
        }

        var full = Path.GetFullPath(Path.Combine(_directory, text.Trim()));
        return File.Exists(full)
            ? full
            : throw Error(node, $"{field} is '{text}', which does not exist (looked for {full}); expected the path of {what}, relative to the scenario file.");
    }

    /// <summary>Fails when an id repeats one seen before in the same list.</summary>
    private void Unique(Dictionary<string, string> seen, string id, YamlNode node, string field, string itemPath)
    {
        if (!seen.TryAdd(id, itemPath))
        {
            throw Error(node, $"{field} is '{id}', which {seen[id]} already uses; expected a unique id.");
        }
    }
}
