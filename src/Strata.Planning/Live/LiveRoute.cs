namespace Strata.Planning.Live;

/// <summary>A route over a live snapshot: the hops in block order and the policy's cost.</summary>
/// <param name="Hops">(server, blocks) per hop; servers are the snapshot's <see cref="LiveServer"/>s.</param>
/// <param name="Policy">The routing policy that chose it.</param>
/// <param name="CostSeconds">The policy's own path cost.</param>
/// <param name="ExpectedWaitSeconds">Wait the policy expects for cache (0 when it does not model waiting).</param>
/// <param name="SecondsPerToken">Time of one decode step along the route under the snapshot's load: per hop the round trip, the software overhead and its blocks.</param>
public sealed record LiveRoute(IReadOnlyList<LiveHop> Hops, string Policy, double CostSeconds, double ExpectedWaitSeconds, double SecondsPerToken);
