using Strata.Core.Placement;
using Strata.Planning.Live;

namespace Strata.Planning.Tests.Live;

public sealed class LiveRoutingTests
{
    private static readonly LiveRouteOptions Options = new();

    private static LiveServer Server(string id, int first, int count, int sessions = 0, long freeKvBytes = 1 << 20, ServerPhase phase = ServerPhase.Both, double rttSeconds = 0) =>
        new(id, new BlockRange(first, count), phase, freeKvBytes, sessions, 0, 0, rttSeconds);

    private static LiveRouteRequest Request(int first = 0, int end = 4, ServerPhase phase = ServerPhase.Both, long kvBytesPerBlock = 0) =>
        new(BlockRange.FromBounds(first, end), phase, kvBytesPerBlock, 8, 4);

    [Theory]
    [InlineData("ws-rr")]
    [InlineData("petals")]
    public void Every_load_aware_policy_avoids_a_busy_server_and_a_full_one(string policy)
    {
        var busy = LiveRouting.Route([Server("a", 0, 4, sessions: 9), Server("b", 0, 2), Server("c", 2, 2)], Request(), policy, Options)!;
        Assert.Equal(["b", "c"], busy.Hops.Select(h => h.Server.Id));
        var full = LiveRouting.Route([Server("a", 0, 4, freeKvBytes: 10), Server("b", 0, 4, sessions: 3)], Request(kvBytesPerBlock: 1024), policy, Options)!;
        Assert.Equal("b", Assert.Single(full.Hops).Server.Id);
        var onlyFull = LiveRouting.Route([Server("a", 0, 4, freeKvBytes: 10)], Request(kvBytesPerBlock: 1024), policy, Options)!;
        Assert.Equal("a", Assert.Single(onlyFull.Hops).Server.Id); // a full server still serves when nothing else covers the blocks
    }

    [Fact]
    public void A_gap_gives_no_route_and_a_partial_span_is_clipped_to_the_request()
    {
        Assert.Null(LiveRouting.Route([Server("a", 0, 2)], Request(), null, Options));
        var part = LiveRouting.Route([Server("a", 0, 4)], Request(1, 3), null, Options)!;
        Assert.Equal(new BlockRange(1, 2), Assert.Single(part.Hops).Blocks);
        Assert.Null(LiveRouting.Route([Server("a", 0, 4)], Request() with { Excluded = new HashSet<string> { "a" } }, null, Options));
    }

    [Fact]
    public void A_whole_generation_route_prefers_both_phase_servers_and_falls_back_to_the_phase_pools()
    {
        LiveServer[] servers = [Server("a", 0, 2), Server("bb", 2, 2), Server("ccc", 0, 4, phase: ServerPhase.Prefill), Server("dddd", 0, 4, phase: ServerPhase.Decode)];
        Assert.Equal(["a", "bb"], LiveRouting.Route(servers, Request(), null, Options)!.Hops.Select(h => h.Server.Id));
        Assert.Equal("ccc", Assert.Single(LiveRouting.Route(servers, Request(phase: ServerPhase.Prefill), null, Options)!.Hops).Server.Id);
        Assert.Equal("dddd", Assert.Single(LiveRouting.Route(servers, Request(phase: ServerPhase.Decode), null, Options)!.Hops).Server.Id);
        var fallback = LiveRouting.Route(servers, Request() with { Excluded = new HashSet<string> { "a" } }, null, Options)!;
        Assert.Contains(fallback.Hops, h => h.Server.Phase != ServerPhase.Both);
    }

    [Fact]
    public void Round_trips_steer_the_route_to_the_near_replica()
    {
        var route = LiveRouting.Route([Server("far", 0, 4, rttSeconds: 0.05), Server("near", 0, 4, rttSeconds: 0.02)], Request(), null, Options)!;
        Assert.Equal("near", Assert.Single(route.Hops).Server.Id);
        Assert.Equal(0.02 + Options.HopOverheadSeconds + (4 * Options.DefaultDecodeSecondsPerBlock), route.SecondsPerToken, 12);
    }

    [Theory]
    [InlineData("ws-rr")]
    [InlineData("shortest-path")]
    public void The_policy_cost_is_the_least_whole_request_time_over_every_chain(string policy)
    {
        // Oracle: enumerate every chain of servers covering [0, L), each hop running to its server's last block, and price it with the closed form of the live snapshot.
        var random = new Random(7);
        for (var trial = 0; trial < 40; trial++)
        {
            const int layers = 6;
            var servers = Enumerable.Range(0, random.Next(2, 6)).Select(j =>
            {
                var first = random.Next(layers);
                return new LiveServer($"s{j}", new BlockRange(first, random.Next(1, layers - first + 1)), ServerPhase.Both, random.Next(0, 8) * 100L,
                    random.Next(3), random.Next(2), random.Next(1, 5) * 1e-3, random.Next(0, 4) * 0.01);
            }).ToArray();
            var request = new LiveRouteRequest(BlockRange.All(layers), ServerPhase.Both, 100, random.Next(1, 20), random.Next(1, 10));
            var route = LiveRouting.Route(servers, request, policy, Options);
            var best = Best(servers, request, policy == "ws-rr", 0);
            if (double.IsPositiveInfinity(best))
            {
                Assert.Null(route);
                continue;
            }

            Assert.NotNull(route);
            Assert.Equal(best, route.CostSeconds, 9);
            Assert.Equal(0, route.Hops[0].Blocks.First);
            Assert.Equal(layers, route.Hops[^1].Blocks.End);
        }
    }

    private static double Best(LiveServer[] servers, LiveRouteRequest request, bool withWait, int at)
    {
        if (at == request.Blocks.End)
        {
            return 0;
        }

        var best = double.PositiveInfinity;
        foreach (var s in servers.Where(s => s.Blocks.Contains(at)))
        {
            // A hop runs to the end of its server's range (the planner's hop graph), so a chain is a sequence of servers.
            var end = Math.Min(s.Blocks.End, request.Blocks.End);
            {
                var k = end - at;
                var load = 1 + s.OpenSessions;
                var tau = s.DecodeSecondsPerBlock * load;
                var steps = request.OutputTokens - 1;
                var hop = s.RttSeconds + Options.HopOverheadSeconds + (steps * (s.RttSeconds + Options.HopOverheadSeconds))
                    + (k * ((tau * request.PromptTokens) + (steps * tau)));
                var full = (s.FreeKvBytes / request.KvBytesPerBlock) - (s.PendingSessions * s.Blocks.Count) < k;
                var cost = hop + (withWait && full ? LiveSwarm.FullServerWaitSeconds : 0);
                best = Math.Min(best, cost + Best(servers, request, withWait, end));
            }
        }

        return best;
    }
}
