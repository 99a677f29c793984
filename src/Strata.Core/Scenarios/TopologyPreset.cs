namespace Strata.Core.Scenarios;

/// <summary>The kinds of swarm topology a scenario can ask for.</summary>
public enum TopologyPreset
{
    /// <summary>Servers in a few regional clusters, fast inside a cluster and slow between them.</summary>
    Clustered,
    /// <summary>A graph read from a topology file (the <c>.graph</c> files under <c>data/topologies/</c>).</summary>
    File,
}
