using Strata.Planning.Swarm;

namespace Strata.Planning.Placement;

/// <summary>A placement and what the policy can say about it.</summary>
/// <param name="Placement">The block range of every server.</param>
/// <param name="Concurrency">Sessions the placement reserves cache for (<c>R</c>); null when the policy has no such notion.</param>
/// <param name="BoundSecondsPerToken">Theorem 2's upper bound on the per-token time (CG-BP only).</param>
/// <param name="ObjectiveSeconds">The MILP's objective value (total request seconds), if solved.</param>
/// <param name="OptimalityGap">The MILP's proven relative gap (0 = optimal), if solved.</param>
/// <param name="Note">Anything the user should know (time limit hit, fallback used).</param>
public sealed record PlacementResult(
    SwarmPlacement Placement,
    int? Concurrency = null,
    double? BoundSecondsPerToken = null,
    double? ObjectiveSeconds = null,
    double? OptimalityGap = null,
    string? Note = null);
