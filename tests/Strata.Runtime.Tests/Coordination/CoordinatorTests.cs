using Grpc.Core;
using Strata.Runtime.Coordination;
using Strata.Runtime.Protocol;

namespace Strata.Runtime.Tests.Coordination;

[Trait("Category", "Integration")]
public sealed class CoordinatorTests
{
    private static RegisterRequest Registration(string id, int first, int count, string token = "") => new()
    {
        ServerId = id,
        Url = $"http://127.0.0.1:{50000 + first}",
        ModelName = "tiny",
        LayerCount = 4,
        FirstBlock = first,
        BlockCount = count,
        Role = ServerRole.Both,
        FreeKvBytes = 1 << 20,
        JoinToken = token,
    };

    [Fact]
    public async Task A_server_that_misses_its_heartbeats_is_dropped()
    {
        var clock = new ManualTimeProvider();
        await using var coordinator = await CoordinatorHost.StartAsync(options: new CoordinatorOptions { HeartbeatInterval = TimeSpan.FromSeconds(1), MissedHeartbeats = 3 }, timeProvider: clock);
        using var client = new CoordinatorClient(coordinator.Address);
        Assert.Equal(1000, (await client.RegisterAsync(Registration("quiet", 0, 4))).HeartbeatIntervalMs);
        var secret = (await client.RegisterAsync(Registration("alive", 0, 4))).ServerSecret;
        clock.Advance(TimeSpan.FromSeconds(2));
        Assert.True(await client.HeartbeatAsync(new HeartbeatRequest { ServerId = "alive", Sessions = 2, FreeKvBytes = 5, ServerSecret = secret }));
        clock.Advance(TimeSpan.FromSeconds(2)); // quiet: 4 s silent > 3 s; alive: 2 s
        var live = await client.ListServersAsync();
        var entry = Assert.Single(live);
        Assert.Equal("alive", entry.ServerId);
        Assert.Equal(2, entry.Sessions);
        Assert.False(await client.HeartbeatAsync(new HeartbeatRequest { ServerId = "quiet" })); // told to register again
        Assert.True(await client.DeregisterAsync("alive", null, secret));
        Assert.Empty(await client.ListServersAsync());
    }

    [Fact]
    public async Task With_a_join_token_servers_without_it_are_refused_with_permission_denied()
    {
        await using var coordinator = await CoordinatorHost.StartAsync(options: new CoordinatorOptions { JoinToken = "s3cret" });
        using var client = new CoordinatorClient(coordinator.Address);
        foreach (var token in new[] { "", "wrong" })
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => client.RegisterAsync(Registration("x", 0, 4, token)));
            Assert.Equal(StatusCode.PermissionDenied, refused.StatusCode);
        }

        var secret = (await client.RegisterAsync(Registration("x", 0, 4, "s3cret"))).ServerSecret;
        var heartbeat = await Assert.ThrowsAsync<RpcException>(() => client.HeartbeatAsync(new HeartbeatRequest { ServerId = "x", ServerSecret = secret }));
        Assert.Equal(StatusCode.PermissionDenied, heartbeat.StatusCode);
        Assert.True(await client.HeartbeatAsync(new HeartbeatRequest { ServerId = "x", JoinToken = "s3cret", ServerSecret = secret }));
        Assert.Single(await client.ListServersAsync()); // clients need no token
    }

    [Theory]
    [InlineData("", 0, 4, "http://127.0.0.1:1")]
    [InlineData("x", 3, 2, "http://127.0.0.1:1")]
    [InlineData("x", -1, 2, "http://127.0.0.1:1")]
    [InlineData("x", 0, 0, "http://127.0.0.1:1")]
    [InlineData("x", 0, 4, "ftp://127.0.0.1:1")]
    [InlineData("x", 0, 4, "not a url")]
    public async Task Registrations_with_bad_fields_are_invalid_arguments(string id, int first, int count, string url)
    {
        await using var coordinator = await CoordinatorHost.StartAsync();
        using var client = new CoordinatorClient(coordinator.Address);
        var request = Registration(id, 0, 4);
        request.FirstBlock = first;
        request.BlockCount = count;
        request.Url = url;
        var refused = await Assert.ThrowsAsync<RpcException>(() => client.RegisterAsync(request));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        var negative = Registration("y", 0, 4);
        negative.FreeKvBytes = -1;
        Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<RpcException>(() => client.RegisterAsync(negative))).StatusCode);
    }

    [Fact]
    public async Task Routes_cover_the_blocks_skip_excluded_servers_respect_roles_and_fail_when_there_is_a_gap()
    {
        await using var coordinator = await CoordinatorHost.StartAsync();
        using var client = new CoordinatorClient(coordinator.Address);
        await client.RegisterAsync(Registration("whole", 0, 4));
        await client.RegisterAsync(Registration("front", 0, 2));
        var back = Registration("back", 2, 2);
        back.Role = ServerRole.Decode;
        await client.RegisterAsync(back);
        RouteRequest Request(ServerRole role, params string[] excluded)
        {
            var request = new RouteRequest { ModelName = "tiny", LayerCount = 4, Role = role };
            request.ExcludedServerIds.Add(excluded);
            return request;
        }

        Assert.Equal(["whole"], (await client.RouteAsync(Request(ServerRole.Both))).Hops.Select(h => h.ServerId));
        Assert.Equal(["front", "back"], (await client.RouteAsync(Request(ServerRole.Both, "whole"))).Hops.Select(h => h.ServerId));
        var gap = await Assert.ThrowsAsync<RpcException>(() => client.RouteAsync(Request(ServerRole.Prefill, "whole")));
        Assert.Equal(StatusCode.Unavailable, gap.StatusCode);
        var wrongModel = Request(ServerRole.Both);
        wrongModel.ModelName = "other";
        Assert.Equal(StatusCode.Unavailable, (await Assert.ThrowsAsync<RpcException>(() => client.RouteAsync(wrongModel))).StatusCode);
        var outside = Request(ServerRole.Both);
        outside.EndBlock = 5;
        Assert.Equal(StatusCode.InvalidArgument, (await Assert.ThrowsAsync<RpcException>(() => client.RouteAsync(outside))).StatusCode);
    }

    [Fact]
    public async Task Placement_gives_a_joining_server_the_weakest_blocks()
    {
        await using var coordinator = await CoordinatorHost.StartAsync();
        using var client = new CoordinatorClient(coordinator.Address);
        Assert.Equal((0, 2), Pair(await client.PlaceAsync("tiny", 4, 2)));
        await client.RegisterAsync(Registration("front", 0, 2));
        Assert.Equal((2, 2), Pair(await client.PlaceAsync("tiny", 4, 2)));
        await client.RegisterAsync(Registration("back", 2, 2));
        await client.RegisterAsync(Registration("middle", 1, 2));
        var third = await client.PlaceAsync("tiny", 4, 1);
        Assert.True(third.FirstBlock is 0 or 3, $"expected an edge block, got {third.FirstBlock}");
        Assert.Equal((0, 4), Pair(await client.PlaceAsync("tiny", 4, 9))); // never more than the model
        static (int, int) Pair(PlaceReply reply) => (reply.FirstBlock, reply.BlockCount);
    }

    [Fact]
    public async Task Routes_use_the_named_planner_policy_and_reserve_cache_for_routed_sessions_until_the_next_heartbeat()
    {
        await using var coordinator = await CoordinatorHost.StartAsync();
        using var client = new CoordinatorClient(coordinator.Address);
        var secret = (await client.RegisterAsync(Registration("a", 0, 4))).ServerSecret;
        await client.RegisterAsync(Registration("b", 0, 4));
        // Each server's 1 MiB holds 5 session-blocks of 200 kB: one session in its 4 blocks, not two.
        RouteRequest Request(string routing) => new() { ModelName = "tiny", LayerCount = 4, Routing = routing, PromptTokens = 8, OutputTokens = 4, KvBytesPerBlock = 200_000 };

        var first = await client.RouteAsync(Request(""));
        Assert.Equal("ws-rr", first.Routing);
        Assert.Equal(["a"], first.Hops.Select(h => h.ServerId)); // equal servers: the first by id
        var second = await client.RouteAsync(Request("petals"));
        Assert.Equal("petals", second.Routing);
        Assert.Equal(["b"], second.Hops.Select(h => h.ServerId)); // a's cache is reserved for the session routed there
        Assert.Equal(1, (await client.ListServersAsync()).Single(s => s.ServerId == "a").PendingSessions);
        Assert.True(await client.HeartbeatAsync(new HeartbeatRequest { ServerId = "a", Sessions = 0, FreeKvBytes = 1 << 20, ServerSecret = secret }));
        Assert.Equal(0, (await client.ListServersAsync()).Single(s => s.ServerId == "a").PendingSessions);
        var unknown = await Assert.ThrowsAsync<RpcException>(() => client.RouteAsync(Request("fastest")));
        Assert.Equal(StatusCode.InvalidArgument, unknown.StatusCode);
    }

    [Fact]
    public async Task A_route_over_a_gap_names_the_blocks_no_live_server_hosts()
    {
        await using var coordinator = await CoordinatorHost.StartAsync();
        using var client = new CoordinatorClient(coordinator.Address);
        await client.RegisterAsync(Registration("front", 0, 1));
        await client.RegisterAsync(Registration("middle", 2, 1));

        var gap = await Assert.ThrowsAsync<RpcException>(() => client.RouteAsync(new RouteRequest { ModelName = "tiny", LayerCount = 4 }));

        Assert.Equal(StatusCode.Unavailable, gap.StatusCode);
        Assert.Contains("covers blocks [0, 4)", gap.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("no live server hosts blocks 1, 3", gap.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_movable_server_is_told_to_move_when_that_covers_a_gap_and_every_reply_lists_the_member_hosts()
    {
        await using var coordinator = await CoordinatorHost.StartAsync();
        using var client = new CoordinatorClient(coordinator.Address);
        var autoSecret = (await client.RegisterAsync(Registration("auto", 0, 3))).ServerSecret; // placed first, on [0, 3)
        var fixedReply = await client.RegisterAsync(Registration("fixed", 0, 2));             // --blocks 0:2 then: block 3 has no server
        Assert.Equal(["127.0.0.1"], fixedReply.MemberHosts);

        var stay = await client.HeartbeatReplyAsync(new HeartbeatRequest { ServerId = "auto", ServerSecret = autoSecret, FreeKvBytes = 1 << 20 });
        Assert.True(stay.Known);
        Assert.Equal(0, stay.MoveBlockCount); // not movable: never moved

        var move = await client.HeartbeatReplyAsync(new HeartbeatRequest { ServerId = "auto", ServerSecret = autoSecret, FreeKvBytes = 1 << 20, Movable = true });
        Assert.Equal((1, 3), (move.MoveFirstBlock, move.MoveBlockCount));
        Assert.Equal(["127.0.0.1"], move.MemberHosts);

        // Once it serves [1, 4) every block is covered and moving back would open the gap again: it stays.
        await client.DeregisterAsync("auto", null, autoSecret);
        var moved = (await client.RegisterAsync(Registration("auto", 1, 3))).ServerSecret;
        var after = await client.HeartbeatReplyAsync(new HeartbeatRequest { ServerId = "auto", ServerSecret = moved, FreeKvBytes = 1 << 20, Movable = true });
        Assert.Equal(0, after.MoveBlockCount);
    }
}
