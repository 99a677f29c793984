using Strata.Core.Hardware;
using Strata.Core.Models;

namespace Strata.Core.Catalogs;

/// <summary>The models, devices and machines Strata knows by name: built in, plus any user catalog files.</summary>
/// <remarks>
/// The built-in catalog is embedded JSON (<c>Catalogs/Data/*.json</c>, each number with its source). A user file
/// of the same format adds entries or replaces built-in ones with the same id. Immutable and thread-safe.
/// </remarks>
public sealed class Catalog
{
    private static readonly Lazy<Catalog> BuiltInCatalog = new(LoadBuiltIn);

    private readonly Dictionary<string, ModelArchitecture> _models;
    private readonly Dictionary<string, DeviceSpec> _devices;
    private readonly Dictionary<string, MachineSpec> _machines;

    private Catalog(
        Dictionary<string, ModelArchitecture> models,
        Dictionary<string, DeviceSpec> devices,
        Dictionary<string, MachineSpec> machines)
    {
        _models = models;
        _devices = devices;
        _machines = machines;
    }

    /// <summary>The catalog shipped with Strata.</summary>
    public static Catalog BuiltIn => BuiltInCatalog.Value;

    /// <summary>Every model, in catalog order.</summary>
    public IEnumerable<ModelArchitecture> Models => _models.Values;

    /// <summary>Every device, in catalog order.</summary>
    public IEnumerable<DeviceSpec> Devices => _devices.Values;

    /// <summary>Every multi-device machine, in catalog order.</summary>
    public IEnumerable<MachineSpec> Machines => _machines.Values;

    /// <summary>This catalog with the entries of a user catalog file added or replacing ones of the same id.</summary>
    /// <exception cref="StrataException">The file is missing or malformed; the message names file, entry and field.</exception>
    public Catalog WithFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new StrataException($"Catalog file '{path}' does not exist.");
        }

        var models = new Dictionary<string, ModelArchitecture>(_models, StringComparer.OrdinalIgnoreCase);
        var devices = new Dictionary<string, DeviceSpec>(_devices, StringComparer.OrdinalIgnoreCase);
        var machines = new Dictionary<string, MachineSpec>(_machines, StringComparer.OrdinalIgnoreCase);
        CatalogReader.Read(File.ReadAllText(path), path, models, devices, machines);
        return new Catalog(models, devices, machines);
    }

    /// <summary>Finds a model by id, or reads a Hugging Face <c>config.json</c> when given a path to one.</summary>
    /// <exception cref="StrataException">No such model; the message suggests the closest id.</exception>
    public ModelArchitecture Model(string idOrPath)
    {
        if (_models.TryGetValue(idOrPath, out var model))
        {
            return model;
        }

        if (idOrPath.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || File.Exists(idOrPath) || Directory.Exists(idOrPath))
        {
            var path = Directory.Exists(idOrPath) ? Path.Combine(idOrPath, "config.json") : idOrPath;
            return HuggingFaceConfig.Load(path);
        }

        throw Unknown("model", idOrPath, _models.Keys, "strata catalog models");
    }

    /// <summary>Finds a device by id.</summary>
    /// <exception cref="StrataException">No such device; the message suggests the closest id.</exception>
    public DeviceSpec Device(string id) =>
        _devices.TryGetValue(id, out var device) ? device : throw Unknown("device", id, _devices.Keys, "strata catalog devices");

    /// <summary>Finds a machine by id; a device id means one such device, <c>NxDEVICE</c> means N of them.</summary>
    /// <exception cref="StrataException">No such machine or device.</exception>
    public MachineSpec Machine(string id)
    {
        if (_machines.TryGetValue(id, out var machine))
        {
            return machine;
        }

        if (_devices.TryGetValue(id, out var device))
        {
            return MachineSpec.Of(device);
        }

        var x = id.IndexOf('x', StringComparison.OrdinalIgnoreCase);
        if (x > 0 && int.TryParse(id.AsSpan(0, x), out var count) && count >= 1 && _devices.TryGetValue(id[(x + 1)..], out device))
        {
            return MachineSpec.Of(device, count);
        }

        throw Unknown("machine", id, _machines.Keys.Concat(_devices.Keys), "strata catalog machines");
    }

    /// <summary>Whether a model with this id is in the catalog.</summary>
    public bool HasModel(string id) => _models.ContainsKey(id);

    /// <summary>Whether a device with this id is in the catalog.</summary>
    public bool HasDevice(string id) => _devices.ContainsKey(id);

    private static StrataException Unknown(string what, string id, IEnumerable<string> known, string listCommand)
    {
        var closest = known
            .Select(candidate => (candidate, distance: EditDistance(id.ToLowerInvariant(), candidate.ToLowerInvariant())))
            .OrderBy(pair => pair.distance)
            .FirstOrDefault();
        var hint = closest.candidate is not null && closest.distance <= Math.Max(2, id.Length / 3)
            ? $" Did you mean '{closest.candidate}'?"
            : string.Empty;
        return new StrataException($"Unknown {what} '{id}'.{hint} Run '{listCommand}' to see them all.");
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j] + 1, current[j - 1] + 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    private static Catalog LoadBuiltIn()
    {
        var models = new Dictionary<string, ModelArchitecture>(StringComparer.OrdinalIgnoreCase);
        var devices = new Dictionary<string, DeviceSpec>(StringComparer.OrdinalIgnoreCase);
        var machines = new Dictionary<string, MachineSpec>(StringComparer.OrdinalIgnoreCase);
        foreach (var name in new[] { "models.json", "devices.json" })
        {
            CatalogReader.Read(ReadResource(name), $"built-in {name}", models, devices, machines);
        }

        return new Catalog(models, devices, machines);
    }

    private static string ReadResource(string name)
    {
        var assembly = typeof(Catalog).Assembly;
        using var stream = assembly.GetManifestResourceStream($"Strata.Core.Catalogs.Data.{name}")
            ?? throw new InvalidOperationException($"Embedded catalog '{name}' is missing from {assembly.GetName().Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
