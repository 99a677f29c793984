using Strata.Planning.Swarm;

namespace Strata.Planning.Routing;

/// <summary>Shortest path without waiting: the path whose whole-request time (prefill + decode, network + compute) is least, ignoring load.</summary>
public sealed class ShortestPathRouting : RoutingBase
{
    /// <inheritdoc />
    public override string Name => "shortest-path";

    /// <inheritdoc />
    public override SwarmRoute? Route(SwarmInstance instance, SwarmPlacement placement, int client, ISwarmLoad load, double nowSeconds, int firstBlock = 0)
    {
        var cost = new RequestTimeCost(instance, client, load, nowSeconds, withWait: false);
        return Graph(instance, placement).ShortestPath(ref cost, firstBlock);
    }
}
