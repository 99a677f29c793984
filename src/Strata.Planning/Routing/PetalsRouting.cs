using Strata.Planning.Swarm;

namespace Strata.Planning.Routing;

/// <summary>
/// PETALS' <c>min_latency</c> inference routing: entering a server costs <c>min(rtt / 2, 5 s) + 0.018 s</c>, each block
/// <c>1 / inference_rps</c> (the server's measured speed, <c>tau_j</c>), and a server without free cache for the span gets a
/// 10 s penalty. No queue or load term beyond that penalty.
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
        var cost = new Cost(instance, client, load);
        return Graph(instance, placement).ShortestPath(ref cost, firstBlock);
    }

    private readonly struct Cost(SwarmInstance instance, int client, ISwarmLoad load) : IHopCost
    {
        public bool IgnoresPrevious => instance.Forwarding == ForwardingMode.HubAndSpoke;

        public double Enter(int previous, int server, int blockCount)
        {
            if (!load.IsAlive(server))
            {
                return double.PositiveInfinity;
            }

            var from = previous < 0 || instance.Forwarding == ForwardingMode.HubAndSpoke ? instance.Clients[client].Node : instance.Servers[previous].Node;
            var rtt = instance.Network.RttSeconds(from, instance.Servers[server].Node);
            var seconds = Math.Min(rtt / 2, MaxHalfRttSeconds) + EnterOverheadSeconds + (blockCount * instance.DecodeSecondsPerBlock(server));
            return load.FreeSlots(server) < blockCount ? seconds + NoCachePenaltySeconds : seconds;
        }

        public double Exit(int last) => 0;
    }
}
