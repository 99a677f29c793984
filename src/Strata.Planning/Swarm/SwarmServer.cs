namespace Strata.Planning.Swarm;

/// <summary>One server of a swarm: where it sits and what its blocks cost.</summary>
/// <param name="Name">Display name (<c>s0</c>, <c>s1</c>, ...).</param>
/// <param name="Node">Index of its network node.</param>
/// <param name="Costs">Its device's block costs.</param>
public sealed record SwarmServer(string Name, int Node, SwarmDeviceCosts Costs);
