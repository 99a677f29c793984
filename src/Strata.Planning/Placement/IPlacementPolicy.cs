using Strata.Planning.Swarm;

namespace Strata.Planning.Placement;

/// <summary>Decides which contiguous block range every server of a swarm hosts.</summary>
public interface IPlacementPolicy
{
    /// <summary>Short name (<c>petals</c>, <c>cg-bp</c>, <c>milp</c>, ...).</summary>
    string Name { get; }

    /// <summary>A placement of every server of <paramref name="instance"/> for requests arriving at <paramref name="rateRequestsPerSecond"/>.</summary>
    /// <exception cref="Core.StrataException">The servers cannot cover every block, or the solver failed.</exception>
    PlacementResult Place(SwarmInstance instance, double rateRequestsPerSecond);

    /// <summary>Session-block cache slots a server of this policy offers when it hosts <paramref name="blockCount"/> blocks.</summary>
    /// <remarks>By default all memory left after the blocks (<see cref="SwarmInstance.CacheSlots"/>).</remarks>
    int CacheSlots(SwarmInstance instance, int server, int blockCount) => instance.CacheSlots(server, blockCount);
}
