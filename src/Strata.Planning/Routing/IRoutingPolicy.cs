using Strata.Planning.Swarm;

namespace Strata.Planning.Routing;

/// <summary>Chooses a request's path through a swarm.</summary>
public interface IRoutingPolicy
{
    /// <summary>Short name (<c>petals</c>, <c>ws-rr</c>, <c>shortest-path</c>).</summary>
    string Name { get; }

    /// <summary>The path for a request of <paramref name="client"/> that still needs blocks <paramref name="firstBlock"/>..L-1; <see langword="null"/> when the live servers do not cover them.</summary>
    SwarmRoute? Route(SwarmInstance instance, SwarmPlacement placement, int client, ISwarmLoad load, double nowSeconds, int firstBlock = 0);
}
