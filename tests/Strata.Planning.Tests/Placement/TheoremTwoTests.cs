using Strata.Core.Network;
using Strata.Planning.Placement;
using Strata.Planning.Swarm;
using Strata.Planning.Tests.Swarm;

namespace Strata.Planning.Tests.Placement;

/// <summary>Theorem 2 (Sun et al.) on instances small enough to compute by hand.</summary>
public sealed class TheoremTwoTests
{
    /// <summary>
    /// Two servers and one client (hub-and-spoke, no transfer): client-s0 10 ms one way, client-s1 20 ms; overhead 10 ms
    /// per hop per step, so <c>t*_0</c> = 2 x 10 + 10 = 30 ms and <c>t*_1</c> = 2 x 20 + 10 = 50 ms. <c>tau</c> = 5 and 8 ms.
    /// L = 4, s_m = 3 kB, s_c = 1 kB (100 tokens x 10 B); memory 12 kB and 8 kB, so with R = 1 the counts are 3 and 2.
    /// </summary>
    private static SwarmInstance HandChain(int clients = 1)
    {
        var nodes = 2 + clients;
        var delay = new double[nodes, nodes];
        var bandwidth = new double[nodes, nodes];
        for (var i = 0; i < nodes; i++)
        {
            for (var j = 0; j < nodes; j++)
            {
                bandwidth[i, j] = 1e9;
            }
        }

        // Client 0 at node 2; a second client (node 3) sits closer to both servers: 4 ms and 6 ms one way.
        (delay[0, 2], delay[2, 0], delay[1, 2], delay[2, 1]) = (10e-3, 10e-3, 20e-3, 20e-3);
        if (clients > 1)
        {
            (delay[0, 3], delay[3, 0], delay[1, 3], delay[3, 1]) = (4e-3, 4e-3, 6e-3, 6e-3);
        }

        delay[0, 1] = delay[1, 0] = 1e-3;
        var network = new NodeLatencies("hand", [.. Enumerable.Range(0, nodes).Select(i => $"n{i}")], delay, bandwidth);
        var fast = new SwarmDeviceCosts("fast", 12_000, 5e-3, 0, 0);
        var slow = new SwarmDeviceCosts("slow", 8_000, 8e-3, 0, 0);
        var costs = new SwarmCosts("hand", 4, 3000, 10, 10e-3, 0, 0, 0, new Dictionary<string, SwarmDeviceCosts> { ["fast"] = fast, ["slow"] = slow });
        return new SwarmInstance(costs, network, [new SwarmServer("s0", 0, fast), new SwarmServer("s1", 1, slow)],
            [.. Enumerable.Range(0, clients).Select(c => new SwarmClient($"c{c}", 2 + c))], 50, 50);
    }

    [Fact]
    public void The_bound_is_the_hand_computed_value()
    {
        // t~_0 = 5 + 30 / 3 = 15 ms, t~_1 = 8 + 50 / 2 = 33 ms; K = 2 (3 + 2 >= 4 blocks);
        // bound = 15 x 3 + 33 x 2 - tau_1 x (5 - 4) = 45 + 66 - 8 = 103 ms.
        var instance = HandChain();
        var result = ConservativeGreedyPlacement.PlaceFor(instance, 1);
        Assert.Equal([3, 2], new[] { result.Placement.Blocks(0).Count, result.Placement.Blocks(1).Count });
        var amortised = ConservativeGreedyPlacement.AmortisedSeconds(instance, [3, 2]);
        Assert.Equal(0.015, amortised[0], 12);
        Assert.Equal(0.033, amortised[1], 12);
        Assert.Equal(0.103, result.BoundSecondsPerToken!.Value, 12);
    }

    [Fact]
    public void The_bound_equals_the_path_cost_on_a_single_chain_swarm()
    {
        // CG-BP puts s0 on [0, 3) and s1 on [2, 4): the only path runs blocks 0-2 on s0 and block 3 on s1, per step
        // 30 + 3 x 5 + 50 + 1 x 8 = 103 ms, the bound exactly (the overlap block is the one the bound subtracts).
        var instance = HandChain();
        var placement = ConservativeGreedyPlacement.PlaceFor(instance, 1).Placement;
        Assert.Equal((0, 2), (placement.Blocks(0).First, placement.Blocks(1).First));
        var path = Assert.Single(TinySwarms.AllPaths(instance, placement));
        Assert.Equal(0.103, TinySwarms.PerTokenSeconds(instance, 0, path), 12);
    }

    [Fact]
    public void The_bound_is_strict_for_a_client_nearer_than_the_worst_one()
    {
        // t* is the worst client's (client 0, as above), so the bound stays 103 ms; client 1 pays
        // (8 + 10) + 15 + (12 + 10) + 8 = 63 ms per step on the same path: below the bound, not equal to it.
        var instance = HandChain(clients: 2);
        var result = ConservativeGreedyPlacement.PlaceFor(instance, 1);
        Assert.Equal(0.103, result.BoundSecondsPerToken!.Value, 12);
        var path = Assert.Single(TinySwarms.AllPaths(instance, result.Placement));
        Assert.Equal(0.103, TinySwarms.PerTokenSeconds(instance, 0, path), 12);
        Assert.Equal(0.063, TinySwarms.PerTokenSeconds(instance, 1, path), 12);
    }
}
