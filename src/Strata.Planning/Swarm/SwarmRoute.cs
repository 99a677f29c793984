namespace Strata.Planning.Swarm;

/// <summary>A request's path through the swarm and what the routing policy expected of it.</summary>
/// <param name="Hops">The hops in block order, covering the requested blocks exactly once.</param>
/// <param name="CostSeconds">The policy's own path cost (units and meaning depend on the policy).</param>
/// <param name="ExpectedWaitSeconds">Wait the policy expects before every hop has a free cache slot (0 when it does not model waiting).</param>
public sealed record SwarmRoute(IReadOnlyList<SwarmHop> Hops, double CostSeconds, double ExpectedWaitSeconds);
