using Grpc.Core;
using Strata.Runtime.Coordination;
using Strata.Runtime.Protocol;

namespace Strata.Runtime.Tests.Coordination;

[Trait("Category", "Integration")]
public sealed class RegistryOwnershipTests
{
    private static RegisterRequest Registration(string id, string url, string token = "s3cret", string secret = "") => new()
    {
        ServerId = id,
        Url = url,
        ModelName = "tiny",
        LayerCount = 4,
        FirstBlock = 0,
        BlockCount = 4,
        Role = ServerRole.Both,
        FreeKvBytes = 1 << 20,
        JoinToken = token,
        ServerSecret = secret,
    };

    [Fact]
    public async Task A_second_register_of_a_live_id_with_the_join_token_but_without_its_secret_is_refused_and_the_entry_kept()
    {
        await using var coordinator = await CoordinatorHost.StartAsync(options: new CoordinatorOptions { JoinToken = "s3cret" });
        using var client = new CoordinatorClient(coordinator.Address);
        var secret = (await client.RegisterAsync(Registration("victim", "http://127.0.0.1:50001/"))).ServerSecret;
        Assert.Equal(64, secret.Length);

        foreach (var stolen in new[] { "", "00" + secret[2..] })
        {
            var refused = await Assert.ThrowsAsync<RpcException>(() => client.RegisterAsync(Registration("victim", "http://127.0.0.1:50666/", secret: stolen)));
            Assert.Equal(StatusCode.AlreadyExists, refused.StatusCode);
            var heartbeat = await Assert.ThrowsAsync<RpcException>(() => client.HeartbeatAsync(new HeartbeatRequest { ServerId = "victim", JoinToken = "s3cret", ServerSecret = stolen }));
            Assert.Equal(StatusCode.PermissionDenied, heartbeat.StatusCode);
            var leave = await Assert.ThrowsAsync<RpcException>(() => client.DeregisterAsync("victim", "s3cret", stolen));
            Assert.Equal(StatusCode.PermissionDenied, leave.StatusCode);
        }

        Assert.Equal("http://127.0.0.1:50001/", Assert.Single(await client.ListServersAsync()).Url);

        // The owner may move its entry; a heartbeat from the old URL is told to register again.
        Assert.Equal(secret, (await client.RegisterAsync(Registration("victim", "http://127.0.0.1:50002/", secret: secret))).ServerSecret);
        Assert.False(await client.HeartbeatAsync(new HeartbeatRequest { ServerId = "victim", JoinToken = "s3cret", ServerSecret = secret, Url = "http://127.0.0.1:50001/" }));
        Assert.True(await client.HeartbeatAsync(new HeartbeatRequest { ServerId = "victim", JoinToken = "s3cret", ServerSecret = secret, Url = "http://127.0.0.1:50002/" }));
        Assert.True(await client.DeregisterAsync("victim", "s3cret", secret));

        // Once gone, the id is free again, under a new secret.
        Assert.NotEqual(secret, (await client.RegisterAsync(Registration("victim", "http://127.0.0.1:50003/"))).ServerSecret);
    }

    [Fact]
    public async Task An_expired_id_can_be_registered_by_anyone_and_the_old_owner_is_told_to_register_again()
    {
        var clock = new ManualTimeProvider();
        await using var coordinator = await CoordinatorHost.StartAsync(options: new CoordinatorOptions { HeartbeatInterval = TimeSpan.FromSeconds(1) }, timeProvider: clock);
        using var client = new CoordinatorClient(coordinator.Address);
        var old = (await client.RegisterAsync(Registration("x", "http://127.0.0.1:50001/", token: ""))).ServerSecret;
        clock.Advance(TimeSpan.FromSeconds(5));
        var fresh = (await client.RegisterAsync(Registration("x", "http://127.0.0.1:50002/", token: ""))).ServerSecret;
        Assert.NotEqual(old, fresh);
        var stale = await Assert.ThrowsAsync<RpcException>(() => client.HeartbeatAsync(new HeartbeatRequest { ServerId = "x", ServerSecret = old }));
        Assert.Equal(StatusCode.PermissionDenied, stale.StatusCode);
    }

    [Fact]
    public async Task Servers_keep_their_entries_through_agents_and_an_impostor_cannot_take_them_over()
    {
        // Heartbeats every 200 ms (timeout 600 ms): at 50 ms, a first heartbeat slowed past the 150 ms timeout by JIT
        // compilation in a fresh test process let the entry expire, and the test failed without any impostor.
        await using var swarm = await TestSwarm.StartAsync(new CoordinatorOptions { JoinToken = "t", HeartbeatInterval = TimeSpan.FromMilliseconds(200) });
        var honest = await swarm.AddServerAsync("s1", 0, 4, joinToken: "t");
        var impostor = await Assert.ThrowsAsync<RpcException>(() => swarm.Client.RegisterAsync(Registration("s1", "http://127.0.0.1:1/", token: "t")));
        Assert.Equal(StatusCode.AlreadyExists, impostor.StatusCode);
        await Task.Delay(1000); // several heartbeats, each with the secret

        // On a loaded machine a heartbeat can miss the 600 ms timeout and the agent registers again: whatever is listed
        // (within a bounded wait for that) is the honest server, never the impostor.
        var listed = await swarm.Client.ListServersAsync();
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); listed.Count == 0 && clock.Elapsed < TimeSpan.FromSeconds(5); listed = await swarm.Client.ListServersAsync())
        {
            await Task.Delay(50);
        }

        Assert.Equal(honest.Address.ToString(), Assert.Single(listed).Url);
    }

    [Fact]
    public async Task Without_a_join_token_the_coordinator_warns_at_start()
    {
        var log = new TestLog();
        await (await CoordinatorHost.StartAsync(options: new CoordinatorOptions { Telemetry = new() { LoggerFactory = log.Factory } })).DisposeAsync();
        Assert.True(log.Has("Warning CoordinatorHost: ", "--join-token"), log.ToString());
    }
}
