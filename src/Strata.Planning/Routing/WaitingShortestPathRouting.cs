using Strata.Planning.Swarm;

namespace Strata.Planning.Routing;

/// <summary>
/// WS-RR (Sun et al.): for every usable hop, the wait <c>t_w - now</c> until enough cache slots free at the server, plus
/// the hop's whole-request time <c>[t_in_cj + (l_max - 1) t_cj] + [tau_in_j + (l_max - 1) tau_j] k_j</c>; shortest path over these.
/// </summary>
/// <remarks>The path's expected wait is the largest wait of its hops (a session starts once every hop has room).</remarks>
public sealed class WaitingShortestPathRouting : RoutingBase
{
    /// <inheritdoc />
    public override string Name => "ws-rr";

    /// <inheritdoc />
    public override SwarmRoute? Route(SwarmInstance instance, SwarmPlacement placement, int client, ISwarmLoad load, double nowSeconds, int firstBlock = 0)
    {
        ArgumentNullException.ThrowIfNull(load);
        var cost = new RequestTimeCost(instance, client, load, nowSeconds, withWait: true);
        var route = Graph(instance, placement).ShortestPath(ref cost, firstBlock);
        if (route is null)
        {
            return null;
        }

        var wait = route.Hops.Max(h => Math.Max(0, load.SlotsFreeAtSeconds(h.Server, h.Blocks.Count, nowSeconds) - nowSeconds));
        return route with { ExpectedWaitSeconds = wait };
    }
}
