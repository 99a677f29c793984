using Strata.Core.Placement;
using Strata.Planning.Live;
using Strata.Planning.Placement;
using Strata.Planning.Routing;
using Strata.Runtime.Coordination;
using Strata.Runtime.Protocol;
using Strata.Simulation.Swarm;

namespace Strata.Cli.Tests.Serve;

/// <summary>The runtime (the coordinator's Route call) and the swarm simulator choose the same route over the same registry snapshot.</summary>
public sealed class SameRouteTests
{
    private static RegisterRequest Registration(string id, int first, int count, double rttSeconds, double decodeSecondsPerBlock) => new()
    {
        ServerId = id,
        Url = $"http://127.0.0.1:{50000 + id.Length}",
        ModelName = "m",
        LayerCount = 8,
        FirstBlock = first,
        BlockCount = count,
        Role = ServerRole.Both,
        FreeKvBytes = 1 << 30,
        DecodeSecondsPerBlock = decodeSecondsPerBlock,
        EmulatedRttSeconds = rttSeconds,
    };

    [Theory]
    [InlineData("ws-rr")]
    [InlineData("petals")]
    [InlineData("shortest-path")]
    public async Task The_coordinator_and_the_simulator_route_a_snapshot_alike(string policy)
    {
        await using var coordinator = await CoordinatorHost.StartAsync();
        using var client = new CoordinatorClient(coordinator.Address);
        var random = new Random(11);
        var secrets = new Dictionary<string, string>();
        for (var trial = 0; trial < 6; trial++)
        {
            // A fresh registry per trial: random ranges (block 0 and the last block always covered), round trips, speeds and loads.
            foreach (var entry in await client.ListServersAsync())
            {
                await client.DeregisterAsync(entry.ServerId, null, secrets[entry.ServerId]);
            }

            var count = random.Next(3, 7);
            var cut = random.Next(1, 8);
            for (var j = 0; j < count; j++)
            {
                var first = j switch { 0 => 0, 1 => cut, _ => random.Next(8) };
                var blocks = j switch { 0 => cut, 1 => 8 - cut, _ => random.Next(1, 9 - first) };
                var id = $"s{trial}-{j}";
                secrets[id] = (await client.RegisterAsync(Registration(id, first, blocks, random.Next(0, 6) * 0.01, random.Next(1, 4) * 2e-3))).ServerSecret;
                await client.HeartbeatAsync(new HeartbeatRequest { ServerId = id, Sessions = random.Next(3), FreeKvBytes = 1 << 30, ServerSecret = secrets[id] });
            }

            var snapshot = await client.ListServersAsync();
            var request = new LiveRouteRequest(BlockRange.All(8), ServerPhase.Both, 4096, 16, 8);
            var swarm = LiveRouting.Snapshot([.. snapshot.Select(e => e.ToLive())], request, new CoordinatorOptions().Routing, s => s.Serves(ServerPhase.Both))!;
            var result = new SwarmSimulator(swarm.Instance, swarm.Placement, new PetalsPlacement(), RoutingPolicies.Create(policy), new SwarmSimulationOptions { Requests = 1 }).Run();
            var simulated = result.Outcomes.Single();
            var routed = await client.RouteAsync(new RouteRequest
            {
                ModelName = "m", LayerCount = 8, Routing = policy, PromptTokens = 16, OutputTokens = 8, KvBytesPerBlock = 4096,
            });

            Assert.True(simulated.Completed);
            Assert.Equal(
                result.FirstRoutes.Single().Select(h => (swarm.Servers[h.Server].Id, h.Blocks)),
                routed.Hops.Select(h => (h.ServerId, new BlockRange(h.FirstBlock, h.BlockCount))));
            Assert.Equal(simulated.FirstRouteCostSeconds, routed.PolicyCostSeconds, 12);
        }
    }
}
