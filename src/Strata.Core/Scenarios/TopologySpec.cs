namespace Strata.Core.Scenarios;

/// <summary>How the servers of a swarm are laid out on the network.</summary>
/// <param name="Preset">The kind of topology (<c>preset</c>).</param>
/// <param name="FilePath">Absolute path of the topology graph file (<c>file</c>); set only for <see cref="TopologyPreset.File"/>.</param>
public sealed record TopologySpec(TopologyPreset Preset, string? FilePath = null);
