namespace Strata.Core.Network;

/// <summary>The Internet Topology Zoo graphs shipped with Strata (<c>data/topologies/</c>, embedded).</summary>
public static class BuiltInTopologies
{
    private static readonly Dictionary<string, string> Resources = new(StringComparer.OrdinalIgnoreCase)
    {
        ["abvt"] = "Abvt",
        ["abovenet"] = "Abvt",
        ["bellcanada"] = "Bellcanada",
        ["bell-canada"] = "Bellcanada",
        ["gtsce"] = "GtsCe",
        ["gts-ce"] = "GtsCe",
        ["attmpls"] = "AttMpls",
        ["att-mpls"] = "AttMpls",
    };

    /// <summary>The names accepted by <see cref="Load"/> (besides aliases).</summary>
    public static IReadOnlyList<string> Names { get; } = ["abvt", "bellcanada", "gtsce", "attmpls"];

    /// <summary>Whether <paramref name="name"/> is a built-in topology or an alias of one.</summary>
    public static bool Contains(string name) => Resources.ContainsKey(name);

    /// <summary>Loads a built-in topology by name (case-insensitive; <c>abovenet</c>, <c>bell-canada</c>, <c>gts-ce</c> are aliases).</summary>
    /// <exception cref="StrataException">The name is unknown.</exception>
    public static TopologyGraph Load(string name)
    {
        if (!Resources.TryGetValue(name, out var file))
        {
            throw new StrataException($"Unknown topology '{name}'; expected clustered, one of {string.Join(", ", Names)}, or the path of a .graph file.");
        }

        using var stream = typeof(BuiltInTopologies).Assembly.GetManifestResourceStream($"Strata.Core.Network.Topologies.{file}.graph")
            ?? throw new InvalidOperationException($"embedded topology {file} is missing");
        using var reader = new StreamReader(stream);
        return TopologyGraphReader.Parse(reader.ReadToEnd(), $"built-in topology {file}", file);
    }

    /// <summary>A built-in name, or else the path of a .graph file.</summary>
    /// <exception cref="StrataException">Neither a known name nor a readable file.</exception>
    public static TopologyGraph Resolve(string nameOrPath) =>
        Contains(nameOrPath) ? Load(nameOrPath) : TopologyGraphReader.Load(nameOrPath);
}
