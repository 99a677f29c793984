using System.Globalization;
using Strata.Core.Catalogs;
using Strata.Core.Hardware;
using Strata.Core.Identity;
using Strata.Core.Models;
using Strata.Core.Network;
using YamlDotNet.RepresentationModel;

namespace Strata.Core.Scenarios;

/// <summary>The cluster half of a scenario: models, devices, links, machine pools, clients and topology.</summary>
internal sealed partial class ScenarioReader
{
    private static readonly string[] ModelKeys = ["id", "name", "config", "configPath"];
    private static readonly string[] DeviceKeys =
        ["id", "name", "kind", "memoryBytes", "memoryBandwidthBytesPerSecond", "peakFlopsPerSecond", "powerWatts", "pricePerHour", "interconnect", "source", "notes"];
    private static readonly string[] LinkKeys = ["id", "latencySeconds", "rttSeconds", "bandwidthBytesPerSecond", "bandwidthMbps", "bandwidthGbps"];
    private static readonly string[] MachineKeys = ["id", "machine", "count", "role", "precision"];
    private static readonly string[] ClientKeys = ["id", "device", "share", "link"];
    private static readonly string[] TopologyKeys = ["preset", "file"];
    private static readonly Dictionary<string, MachinePoolRole> Roles = new()
    {
        ["both"] = MachinePoolRole.Both,
        ["prompt"] = MachinePoolRole.Prompt,
        ["token"] = MachinePoolRole.Token,
        ["mixed"] = MachinePoolRole.Mixed,
    };

    private static readonly Dictionary<string, TopologyPreset> Presets = new()
    {
        ["clustered"] = TopologyPreset.Clustered,
        ["file"] = TopologyPreset.File,
    };

    private const double ShareTolerance = 1e-6;

    private List<ScenarioModel> ReadModels(YamlMap top)
    {
        var models = new List<ScenarioModel>();
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (node, path) in top.Items("models", "a list of models, each with an 'id'"))
        {
            var entry = YamlMap.Of(this, node, path, ModelKeys);
            var id = entry.RequiredString("id", "a catalog model id, or a new id together with 'config' or 'configPath'");
            var idNode = entry.Get("id")!;
            Unique(seen, id, idNode, entry.Field("id"), path);
            var name = entry.String("name");
            var config = entry.Get("config");
            var configPathNode = entry.Get("configPath");
            if (config is not null && configPathNode is not null)
            {
                throw Error(configPathNode, $"{path} has both 'config' and 'configPath'; expected one of them, or neither to use the catalog model '{id}'.");
            }

            if (config is not null)
            {
                if (config is not YamlMappingNode)
                {
                    throw Invalid(config, entry.Field("config"), "a mapping of Hugging Face config.json fields such as hidden_size and num_hidden_layers");
                }

                var field = entry.Field("config");
                var architecture = Resolve(config, field, () =>
                    HuggingFaceConfig.Parse(YamlJson.ToJson(config), new ModelId(id), name ?? id, $"{_file} (inline config)", field));
                models.Add(new ScenarioModel(id, architecture, ScenarioModelOrigin.InlineConfig));
            }
            else if (configPathNode is not null)
            {
                var field = entry.Field("configPath");
                var text = YamlValues.Text(configPathNode);
                var full = text is null ? null : Path.GetFullPath(Path.Combine(_directory, text.Trim()));
                if (full is not null && Directory.Exists(full))
                {
                    full = Path.Combine(full, "config.json");
                }

                if (full is null || !File.Exists(full))
                {
                    throw Error(configPathNode, $"{field} is {YamlValues.Describe(configPathNode)}, which does not exist{(full is null ? string.Empty : $" (looked for {full})")}; expected the path of a Hugging Face config.json (or its folder), relative to the scenario file.");
                }

                var architecture = Resolve(configPathNode, field, () => HuggingFaceConfig.Load(full, new ModelId(id)));
                models.Add(new ScenarioModel(id, name is null ? architecture : architecture with { Name = name }, ScenarioModelOrigin.ConfigFile));
            }
            else
            {
                if (!_catalog.HasModel(id) && (id.Contains('/', StringComparison.Ordinal) || id.Contains('\\', StringComparison.Ordinal) || id.EndsWith(".json", StringComparison.OrdinalIgnoreCase)))
                {
                    throw Invalid(idNode, entry.Field("id"), "a catalog model id; to read a config.json file, give the model an id and put the path under 'configPath'");
                }

                var architecture = Resolve(idNode, entry.Field("id"), () => _catalog.Model(id));
                models.Add(new ScenarioModel(id, name is null ? architecture : architecture with { Name = name }, ScenarioModelOrigin.Catalog));
            }
        }

        return models;
    }

    private List<DeviceSpec> ReadDevices(YamlMap top)
    {
        var devices = new List<DeviceSpec>();
        foreach (var (node, path) in top.Items("devices", "a list of devices in the catalog's JSON device format"))
        {
            var entry = YamlMap.Of(this, node, path, DeviceKeys);
            var id = entry.RequiredString("id", "a device id");
            if (_inlineDevices.ContainsKey(id))
            {
                throw Error(entry.Get("id")!, $"{entry.Field("id")} is '{id}', which an earlier entry of devices already uses; expected a unique id.");
            }

            // The catalog reader owns the device format; hand it this one entry as JSON.
            var json = $"{{\"devices\": [{YamlJson.ToJsonText(node)}]}}";
            var parsed = new Dictionary<string, DeviceSpec>(StringComparer.OrdinalIgnoreCase);
            CatalogReader.Read(json, $"{_file}:{node.Start.Line}: {path}", [], parsed, []);
            var device = parsed.Values.Single();
            _inlineDevices[id] = device;
            devices.Add(device);
        }

        return devices;
    }

    private List<ScenarioLink> ReadLinks(YamlMap top)
    {
        var links = new List<ScenarioLink>();
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (node, path) in top.Items("links", "a list of links, each with an 'id', a latency and a bandwidth"))
        {
            var entry = YamlMap.Of(this, node, path, LinkKeys);
            var id = entry.RequiredString("id", "a link id that clients refer to");
            Unique(seen, id, entry.Get("id")!, entry.Field("id"), path);

            var latencySeconds = ExactlyOne(
                entry,
                [("latencySeconds", 1.0), ("rttSeconds", 0.5)],
                value => value >= 0,
                "a number of seconds >= 0",
                "a one-way 'latencySeconds' or a round-trip 'rttSeconds'");
            var bandwidthBytesPerSecond = ExactlyOne(
                entry,
                [("bandwidthBytesPerSecond", 1.0), ("bandwidthMbps", 1e6 / 8), ("bandwidthGbps", 1e9 / 8)],
                value => value > 0,
                "a number > 0",
                "one of 'bandwidthBytesPerSecond', 'bandwidthMbps' (megabits) or 'bandwidthGbps' (gigabits)");
            links.Add(new ScenarioLink(id, new LinkSpec(latencySeconds, bandwidthBytesPerSecond, id)));
        }

        return links;
    }

    /// <summary>The one key of <paramref name="units"/> present, times its scale factor.</summary>
    private double ExactlyOne(YamlMap entry, (string Key, double Scale)[] units, Func<double, bool> accept, string expected, string choices)
    {
        var present = units.Where(unit => entry.Has(unit.Key)).ToArray();
        if (present.Length == 0)
        {
            throw Error(entry.Node, $"{entry.Path} has none of {string.Join(", ", units.Select(unit => $"'{unit.Key}'"))}; expected {choices}.");
        }

        if (present.Length > 1)
        {
            throw Error(entry.Get(present[1].Key)!, $"{entry.Path} has both '{present[0].Key}' and '{present[1].Key}'; expected only {choices}.");
        }

        return entry.Number(present[0].Key, accept, expected)!.Value * present[0].Scale;
    }

    private List<ScenarioMachinePool> ReadMachines(YamlMap top)
    {
        var pools = new List<ScenarioMachinePool>();
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (node, path) in top.Items("machines", "a list of machine pools, each with an 'id' and a 'machine'"))
        {
            var entry = YamlMap.Of(this, node, path, MachineKeys);
            var id = entry.RequiredString("id", "a pool id");
            Unique(seen, id, entry.Get("id")!, entry.Field("id"), path);
            var machineText = entry.RequiredString("machine", "a catalog machine id, a device id, or NxDEVICE such as 4xa100-80gb");
            var machine = ResolveMachine(entry.Get("machine")!, entry.Field("machine"), machineText);
            var count = entry.Integer("count", 0) ?? 1;
            var role = entry.Choice("role", Roles) ?? MachinePoolRole.Both;
            Precision? precision = null;
            if (entry.Get("precision") is { } precisionNode)
            {
                precision = PrecisionInfo.TryParse(YamlValues.Text(precisionNode), out var parsed)
                    ? parsed
                    : throw Invalid(precisionNode, entry.Field("precision"), $"one of {PrecisionInfo.AcceptedNames}");
            }

            pools.Add(new ScenarioMachinePool(id, machine, count, role, precision));
        }

        return pools;
    }

    private MachineSpec ResolveMachine(YamlNode node, string field, string text)
    {
        if (_inlineDevices.TryGetValue(text, out var device))
        {
            return MachineSpec.Of(device);
        }

        var x = text.IndexOf('x', StringComparison.OrdinalIgnoreCase);
        if (x > 0
            && int.TryParse(text.AsSpan(0, x), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            && count >= 1
            && _inlineDevices.TryGetValue(text[(x + 1)..], out device))
        {
            return MachineSpec.Of(device, count);
        }

        return Resolve(node, field, () => _catalog.Machine(text));
    }

    private DeviceSpec ResolveDevice(YamlNode node, string field, string text) =>
        _inlineDevices.TryGetValue(text, out var device) ? device : Resolve(node, field, () => _catalog.Device(text));

    private List<ScenarioClient> ReadClients(YamlMap top, IReadOnlyList<ScenarioLink> links)
    {
        var clients = new List<ScenarioClient>();
        var seen = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var linkIds = links.Select(link => link.Id).ToArray();
        foreach (var (node, path) in top.Items("clients", "a list of client populations, each with an 'id', 'device', 'share' and 'link'"))
        {
            var entry = YamlMap.Of(this, node, path, ClientKeys);
            var id = entry.RequiredString("id", "a client population id");
            Unique(seen, id, entry.Get("id")!, entry.Field("id"), path);
            var deviceText = entry.RequiredString("device", "a catalog or inline device id");
            var device = ResolveDevice(entry.Get("device")!, entry.Field("device"), deviceText);
            entry.Require("share", "the fraction of requests these clients send, in (0, 1]");
            var share = entry.Number("share", value => value is > 0 and <= 1, "a fraction in (0, 1]")!.Value;
            var linkText = entry.RequiredString("link", "the id of a link under 'links'");
            var link = links.FirstOrDefault(candidate => string.Equals(candidate.Id, linkText, StringComparison.OrdinalIgnoreCase));
            if (link is null)
            {
                var known = linkIds.Length == 0 ? "but 'links' defines none" : $"one of {string.Join(", ", linkIds)}";
                var hint = NameSuggester.Closest(linkText, linkIds) is { } closest ? $" (did you mean '{closest}'?)" : string.Empty;
                throw Error(entry.Get("link")!, $"{entry.Field("link")} is '{linkText}'; expected the id of a link under 'links', {known}{hint}.");
            }

            clients.Add(new ScenarioClient(id, device, share, link));
        }

        var total = clients.Sum(client => client.Share);
        if (clients.Count > 0 && Math.Abs(total - 1) > ShareTolerance)
        {
            var shares = string.Join(" + ", clients.Select(client => client.Share.ToString(CultureInfo.InvariantCulture)));
            throw Error(top.Get("clients")!, $"clients[*].share sum to {total.ToString(CultureInfo.InvariantCulture)} ({shares}); expected them to sum to 1 (within {ShareTolerance.ToString(CultureInfo.InvariantCulture)}).");
        }

        return clients;
    }

    private TopologySpec? ReadTopology(YamlMap top)
    {
        if (top.Map("topology", TopologyKeys) is not { } topology)
        {
            return null;
        }

        topology.Require("preset", "one of clustered, file");
        var preset = topology.Choice("preset", Presets)!.Value;
        if (preset == TopologyPreset.File)
        {
            var file = topology.Require("file", "the path of a topology .graph file, relative to the scenario file, because preset is 'file'");
            return new TopologySpec(preset, ResolveFile(file, topology.Field("file"), "a topology .graph file"));
        }

        topology.Forbid(["file"], "topology.preset is 'clustered', which reads no file; expected no 'file' (or preset: file)");
        return new TopologySpec(preset);
    }
}
