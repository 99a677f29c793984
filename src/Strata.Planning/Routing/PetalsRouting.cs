using Strata.Planning.Swarm;

namespace Strata.Planning.Routing;

/// <summary>
/// PETALS' <c>min_latency</c> inference routing (<c>sequence_manager.py</c>, <c>_build_inference_graph</c>): entering the
/// first server costs <c>min(rtt / 2, 5 s) + 0.018 s</c> with the client's RTT, entering each later one the same with the
/// RTT from the previous server (whichever data path carries the activations), each block <c>1 / inference_rps</c> (the
/// server's measured decode speed, <c>tau_j</c>), the way back <c>min(rtt / 2, 5 s)</c> from the last server to the
/// client, and a 10 s penalty on entering a server whose announced free cache cannot hold the session across its whole
/// span. Servers the client has banned are left out unless no path remains without them. No queue or load term.
/// </summary>
public sealed class PetalsRouting : RoutingBase
{
    /// <summary>Fixed cost of entering a server (PETALS' default).</summary>
    public const double EnterOverheadSeconds = 0.018;

    /// <summary>Cap on the half-RTT term.</summary>
    public const double MaxHalfRttSeconds = 5;

    /// <summary>Penalty of a server that lacks cache for the span.</summary>
    public const double NoCachePenaltySeconds = 10;

    /// <inheritdoc />
    public override string Name => "petals";

    /// <inheritdoc />
    public override SwarmRoute? Route(SwarmInstance instance, SwarmPlacement placement, int client, ISwarmLoad load, double nowSeconds, int firstBlock = 0)
    {
        ArgumentNullException.ThrowIfNull(placement);
        ArgumentNullException.ThrowIfNull(load);
        var graph = Graph(instance, placement);
        var cost = new Cost(instance, placement, client, load, nowSeconds, skipBanned: true);
        var route = graph.ShortestPath(ref cost, firstBlock);
        if (route is null)
        {
            // PETALS ignores its blacklist when it has banned every server of some block.
            cost = new Cost(instance, placement, client, load, nowSeconds, skipBanned: false);
            route = graph.ShortestPath(ref cost, firstBlock);
        }

        return route;
    }

    /// <summary>PETALS' <c>_rtt_to_delay</c>: half the RTT, at most 5 s.</summary>
    public static double HalfRttSeconds(SwarmInstance instance, int fromNode, int toNode)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return Math.Min(instance.Network.RttSeconds(fromNode, toNode) / 2, MaxHalfRttSeconds);
    }

    private readonly struct Cost(SwarmInstance instance, SwarmPlacement placement, int client, ISwarmLoad load, double nowSeconds, bool skipBanned) : IHopCost
    {
        public bool IgnoresPrevious => false;

        public double Enter(int previous, int server, int blockCount)
        {
            if (!load.IsAlive(server) || (skipBanned && load.IsBanned(client, server, nowSeconds)))
            {
                return double.PositiveInfinity;
            }

            var from = previous < 0 ? instance.Clients[client].Node : instance.Servers[previous].Node;
            var seconds = HalfRttSeconds(instance, from, instance.Servers[server].Node) + EnterOverheadSeconds + (blockCount * instance.DecodeSecondsPerBlock(server));
            // PETALS checks the cache for the server's whole span: it cannot tell at this point how many blocks it will use there.
            return load.AnnouncedFreeSlots(server) < placement.Blocks(server).Count ? seconds + NoCachePenaltySeconds : seconds;
        }

        public double Exit(int last) => HalfRttSeconds(instance, instance.Servers[last].Node, instance.Clients[client].Node);
    }
}
