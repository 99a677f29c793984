using System.Diagnostics;
using Strata.Core.Placement;
using Strata.Runtime.Coordination;
using Strata.Runtime.Protocol;

namespace Strata.Runtime.Tests.Coordination;

[Trait("Category", "Integration")]
public sealed class EtcdRegistryTests
{
    private static RegisteredServer Server(string id, int first = 0, int count = 4, int port = 7000) =>
        new(id, new Uri($"http://127.0.0.1:{port}/"), "tiny", 12, new BlockRange(first, count), ServerRole.Both, 1000, 0, 1e-3, 0);

    private static async Task Eventually(Func<bool> condition, string what, double seconds = 5)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed.TotalSeconds < seconds, $"timed out after {seconds} s waiting until {what}");
            await Task.Delay(20);
        }
    }

    [EtcdFact]
    public async Task A_registration_through_one_coordinator_is_watched_by_another_and_only_its_owner_may_change_it()
    {
        await using var etcd = await EtcdCluster.StartAsync();
        await using var a = await EtcdServerRegistry.StartAsync(etcd.Options(TimeSpan.FromSeconds(10)));
        await using var b = await EtcdServerRegistry.StartAsync(etcd.Options(TimeSpan.FromSeconds(10)));
        var (entry, secret) = (await a.RegisterOwnedAsync(Server("s1"), null))!.Value;
        Assert.Equal("s1", Assert.Single(a.Live()).ServerId); // read-your-writes on the registering coordinator
        await Eventually(() => b.Live().Count == 1, "the second coordinator's watch delivers the entry");
        Assert.Equal(entry.Url, b.Live()[0].Url);

        Assert.Null(await b.RegisterOwnedAsync(Server("s1", port: 7999), "not-the-secret"));
        Assert.Null(await b.RegisterOwnedAsync(Server("s1", port: 7999), null));
        Assert.Equal(HeartbeatOutcome.NotOwner, await b.HeartbeatOwnedAsync("s1", "wrong", null, 3, 500));
        Assert.Equal(HeartbeatOutcome.UrlChanged, await b.HeartbeatOwnedAsync("s1", secret, new Uri("http://127.0.0.1:7999/"), 3, 500));
        Assert.Equal(HeartbeatOutcome.Refreshed, await b.HeartbeatOwnedAsync("s1", secret, entry.Url, 3, 500));
        await Eventually(() => a.Live() is [{ Sessions: 3, FreeKvBytes: 500 }], "the heartbeat's load reaches the first coordinator");
        Assert.Equal(HeartbeatOutcome.Unknown, await a.HeartbeatOwnedAsync("nobody", secret, null, 0, 0));

        var again = (await b.RegisterOwnedAsync(Server("s1", first: 4), secret))!.Value;
        Assert.Equal(secret, again.Secret);
        await Eventually(() => a.Live() is [{ Blocks.First: 4 }], "the owner's re-registration reaches the first coordinator");

        Assert.False(await b.RemoveOwnedAsync("s1", "wrong"));
        Assert.True(await a.RemoveOwnedAsync("s1", secret));
        Assert.Null(await a.RemoveOwnedAsync("s1", secret));
        Assert.Empty(a.Live());
        await Eventually(() => b.Live().Count == 0, "the removal reaches the second coordinator");
    }

    [EtcdFact]
    public async Task Kv_capacity_travels_through_etcd_and_pending_tokens_stay_local_until_the_server_heartbeats()
    {
        await using var etcd = await EtcdCluster.StartAsync();
        await using var a = await EtcdServerRegistry.StartAsync(etcd.Options(TimeSpan.FromSeconds(10)));
        await using var b = await EtcdServerRegistry.StartAsync(etcd.Options(TimeSpan.FromSeconds(10)));
        var (entry, secret) = (await a.RegisterOwnedAsync(Server("s1") with { KvCapacityBytes = 4000 }, null))!.Value;
        await Eventually(() => b.Live() is [{ KvCapacityBytes: 4000 }], "the capacity reaches the second coordinator");

        a.AddPending("s1", 300, 40);
        a.AddPending("s1", 200, 0);
        Assert.True(a.Live() is [{ PendingSessions: 2, PendingPromptTokens: 500, PendingDecodeTokens: 40 }], $"pending on a: {a.Live()[0]}");
        Assert.True(b.Live() is [{ PendingSessions: 0, PendingPromptTokens: 0, PendingDecodeTokens: 0 }], $"pending on b: {b.Live()[0]}"); // a hint of the coordinator that routed

        Assert.Equal(HeartbeatOutcome.Refreshed, await b.HeartbeatOwnedAsync("s1", secret, entry.Url, 2, 900));
        await Eventually(() => a.Live() is [{ Sessions: 2, PendingSessions: 0, PendingPromptTokens: 0, PendingDecodeTokens: 0, KvCapacityBytes: 4000 }],
            "the heartbeat through the second coordinator clears the first one's pending counts");
    }

    [EtcdFact]
    public async Task A_server_that_stops_heartbeating_is_gone_within_its_lease_ttl_and_one_that_heartbeats_stays()
    {
        var ttl = TimeSpan.FromSeconds(2);
        await using var etcd = await EtcdCluster.StartAsync();
        await using var a = await EtcdServerRegistry.StartAsync(etcd.Options(ttl));
        await using var b = await EtcdServerRegistry.StartAsync(etcd.Options(ttl));
        var silent = (await a.RegisterOwnedAsync(Server("silent"), null))!.Value;
        var alive = (await a.RegisterOwnedAsync(Server("alive", port: 7001), null))!.Value;
        var clock = Stopwatch.StartNew();
        while (b.Live().Any(s => s.ServerId == "silent"))
        {
            Assert.True(clock.Elapsed < ttl + TimeSpan.FromSeconds(1.5), $"'silent' still listed {clock.Elapsed.TotalSeconds:0.00} s after its last renewal (lease {ttl.TotalSeconds} s)");
            Assert.Equal(HeartbeatOutcome.Refreshed, await b.HeartbeatOwnedAsync("alive", alive.Secret, alive.Entry.Url, 0, 1000));
            await Task.Delay(200);
        }

        Assert.True(clock.Elapsed > ttl * 0.5, $"'silent' vanished after {clock.Elapsed.TotalSeconds:0.00} s, well before its {ttl.TotalSeconds} s lease");
        Assert.Equal("alive", Assert.Single(b.Live()).ServerId);
        Assert.True(b.EntriesExpired >= 1);
        Assert.Equal(HeartbeatOutcome.Unknown, await a.HeartbeatOwnedAsync("silent", silent.Secret, null, 0, 0));
        var fresh = (await a.RegisterOwnedAsync(Server("silent"), null))!.Value;
        Assert.NotEqual(silent.Secret, fresh.Secret); // an expired id is a new entry with a new secret
    }

    [EtcdFact]
    public async Task Concurrent_placements_through_two_coordinators_hand_out_the_windows_one_coordinator_would_in_sequence()
    {
        await using var etcd = await EtcdCluster.StartAsync();
        await using var a = await EtcdServerRegistry.StartAsync(etcd.Options());
        await using var b = await EtcdServerRegistry.StartAsync(etcd.Options());
        const int joiners = 8;
        var placed = await Task.WhenAll(Enumerable.Range(0, joiners)
            .Select(i => (i % 2 == 0 ? a : b).PlaceAsync("tiny", 12, 3, $"j{i}", 1e-3).AsTask()));

        // Oracle: the advisor applied one joiner at a time, each placed window counted as a server.
        var sequential = new List<RegisteredServer>();
        for (var i = 0; i < joiners; i++)
        {
            var blocks = PlacementAdvisor.Place(sequential, 12, 3, 1e-3);
            sequential.Add(Server($"q{i}", blocks.First, blocks.Count));
        }

        Assert.Equal(sequential.Select(s => s.Blocks.First).Order(), placed.Select(p => p.First).Order());
        Assert.All(placed, p => Assert.Equal(3, p.Count));

        // A joiner that registers its window releases the reservation: the window is counted once, not twice.
        await a.RegisterOwnedAsync(Server("j0", placed[0].First, 3), null);
        var next = await b.PlaceAsync("tiny", 12, 3, "late", 1e-3);
        var expected = PlacementAdvisor.Place(sequential, 12, 3, 1e-3);
        Assert.Equal(expected, next);
    }

    [Fact]
    public void Registry_text_lists_every_member_and_bad_text_names_the_expected_form()
    {
        Assert.Equal(["http://127.0.0.1:2379/", "http://10.0.0.2:2380/"],
            EtcdRegistryOptions.ParseEndpoints("etcd://127.0.0.1:2379,10.0.0.2:2380").Select(u => u.ToString()));
        foreach (var bad in new[] { "http://127.0.0.1:2379", "etcd://", "etcd://host", "etcd://a:1,,b:2", "etcd://a:1/x" })
        {
            var error = Assert.Throws<Strata.Core.StrataException>(() => EtcdRegistryOptions.ParseEndpoints(bad));
            Assert.Contains("etcd://HOST:PORT", error.Message, StringComparison.Ordinal);
        }
    }
}
