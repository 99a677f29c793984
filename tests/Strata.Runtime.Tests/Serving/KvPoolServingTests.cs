using Strata.Runtime.Engine;
using Strata.Runtime.Serving;

namespace Strata.Runtime.Tests.Serving;

[Trait("Category", "Integration")]
public sealed class KvPoolServingTests
{
    private const int Tokens = 40;

    private static readonly LlamaModel Model = TestModels.TinyBlocks();

    private static int Layers => Model.Config.LayerCount;


    private static float[] Hidden(int tokens, int offset) =>
        TestModels.Tiny().Embed([.. Enumerable.Range(0, tokens).Select(i => 32 + ((i * 7) + offset) % 90)]);

    [Fact]
    public async Task A_closed_sessions_memory_is_reused_by_the_next_session_without_its_values_showing()
    {
        await using var server = await BlockServerHost.StartAsync(Model);
        using var client = new BlockServerClient(server.Address);
        await client.ForwardAsync("first", 0, Layers, 0, Hidden(Tokens, 0), Tokens, Model.Config.HiddenSize);
        Assert.Equal(0, server.KvPool.IdleArrays);

        Assert.True(await client.CloseSessionAsync("first"));
        Assert.Equal(2 * Layers, server.KvPool.IdleArrays);
        Assert.Equal(0L, server.KvBytes); // admission counts sessions' arrays, not pooled memory

        // A shorter second session (in the same size class, so the pool hands it the same arrays) shows its own tokens
        // only, bit for bit as a local session.
        var local = Model.CreateSession();
        var hidden = Hidden(38, 3);
        Model.ForwardBlocks(local, 0, Layers, hidden.ToArray(), 38);
        var reusedBefore = server.KvPool.Reused;
        await client.ForwardAsync("second", 0, Layers, 0, hidden, 38, Model.Config.HiddenSize);
        Assert.Equal(2L * Layers, server.KvPool.Reused - reusedBefore);
        Assert.Equal(0, server.KvPool.IdleArrays);
        AssertSame(local, await client.ExportKvAsync("second", 0, Layers));

        // The same through an import of a shorter cache into yet another recycled session.
        Assert.True(await client.CloseSessionAsync("second"));
        var shorter = Model.CreateSession();
        Model.ForwardBlocks(shorter, 0, Layers, Hidden(37, 11), 37);
        await client.ImportKvAsync("third", Enumerable.Range(0, Layers).Select(shorter.Export).ToList());
        Assert.Equal(0, server.KvPool.IdleArrays);
        AssertSame(shorter, await client.ExportKvAsync("third", 0, Layers));
    }

    [Fact]
    public async Task A_bulk_pull_into_a_fresh_session_reuses_the_memory_of_the_last_closed_one()
    {
        await using var prefill = await BlockServerHost.StartAsync(Model);
        await using var decode = await BlockServerHost.StartAsync(Model);
        using var prefillClient = new BlockServerClient(prefill.Address);
        using var decodeClient = new BlockServerClient(decode.Address);
        var local = Model.CreateSession();
        var hidden = Hidden(Tokens, 1);
        Model.ForwardBlocks(local, 0, Layers, hidden.ToArray(), Tokens);
        await prefillClient.ForwardAsync("s", 0, Layers, 0, hidden, Tokens, Model.Config.HiddenSize);

        for (var round = 0; round < 3; round++)
        {
            await prefillClient.CopyKvToAsync("s", 0, Layers, decodeClient, "fresh");
            AssertSame(local, await decodeClient.ExportKvAsync("fresh", 0, Layers));
            Assert.True(await decodeClient.CloseSessionAsync("fresh"));
        }

        // The first pull allocated; the two after it took every array from the pool.
        Assert.Equal(6L * Layers, decode.KvPool.Rented);
        Assert.Equal(4L * Layers, decode.KvPool.Reused);
        Assert.Equal(2 * Layers, decode.KvPool.IdleArrays);
    }

    [Fact]
    public async Task A_session_removed_while_a_call_holds_it_keeps_its_memory_until_the_call_ends()
    {
        var service = new BlockServerService(Model, new BlockServerLimits(), TimeProvider.System, bulk: null);
        var session = service.GetOrCreate("s");
        Model.ForwardBlocks(session.Session, 0, Layers, Hidden(Tokens, 0), Tokens);
        var keys = session.Session.Cache(0).Keys.ToArray();

        // A forward step, export or bulk send holds the session's lock.
        await session.Lock.WaitAsync();
        Assert.True(service.RemoveSession("s", out var released));
        Assert.Equal(0, service.SessionCount);
        Assert.False(released.IsCompleted);
        Assert.Equal((0L, 0), (service.KvPool.Returned, service.KvPool.IdleArrays));
        Assert.Equal(keys, session.Session.Cache(0).Keys.ToArray()); // the call still reads its cache

        // A new session meanwhile gets new arrays, not the held ones.
        var other = service.GetOrCreate("other");
        Model.ForwardBlocks(other.Session, 0, Layers, Hidden(Tokens, 9), Tokens);
        Assert.Equal(0L, service.KvPool.Reused);
        Assert.Equal(keys, session.Session.Cache(0).Keys.ToArray());

        session.Lock.Release();
        await released;
        Assert.Equal(2 * Layers, service.KvPool.IdleArrays);
        Assert.Equal(0, session.Session.TokenCount(0));
        Assert.False(service.RemoveSession("s", out _));
    }

    [Fact]
    public async Task A_call_that_waited_for_a_session_removed_meanwhile_is_aborted_and_allocates_nothing()
    {
        var service = new BlockServerService(Model, new BlockServerLimits(), TimeProvider.System, bulk: null);
        var session = service.GetOrCreate("s");
        Model.ForwardBlocks(session.Session, 0, Layers, Hidden(Tokens, 0), Tokens);

        await session.Lock.WaitAsync(); // a call in progress
        Assert.True(service.RemoveSession("s", out var released)); // the remover waits for it
        var waiting = session.EnterAsync("s", CancellationToken.None); // a call that got the session before its removal, queued after the remover
        session.Lock.Release();
        await released;

        var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => waiting);
        Assert.Equal(Grpc.Core.StatusCode.Aborted, error.StatusCode);
        Assert.True(session.Removed);
        Assert.Equal(0, session.Session.TokenCount(0));
        Assert.Equal(1, session.Lock.CurrentCount); // the aborted call let the lock go
    }

    [Fact]
    public async Task Idle_eviction_gives_a_sessions_memory_to_the_pool_and_skips_a_session_in_a_call()
    {
        var clock = new ManualTimeProvider();
        var service = new BlockServerService(Model, new BlockServerLimits { SessionIdleTimeout = TimeSpan.FromMinutes(1) }, clock, bulk: null);
        var idle = service.GetOrCreate("idle");
        var busy = service.GetOrCreate("busy");
        Model.ForwardBlocks(idle.Session, 0, Layers, Hidden(Tokens, 0), Tokens);
        Model.ForwardBlocks(busy.Session, 0, Layers, Hidden(Tokens, 2), Tokens);
        clock.Advance(TimeSpan.FromMinutes(2));

        await busy.Lock.WaitAsync();
        Assert.Equal(1, service.EvictIdleSessions());
        Assert.Equal(2 * Layers, service.KvPool.IdleArrays);
        Assert.Equal(Tokens, busy.Session.TokenCount(0));
        busy.Lock.Release();

        Assert.Equal(1, service.EvictIdleSessions());
        Assert.Equal(4 * Layers, service.KvPool.IdleArrays);
    }

    [Fact]
    public async Task A_server_with_no_pool_budget_keeps_no_idle_memory()
    {
        await using var server = await BlockServerHost.StartAsync(Model, limits: new BlockServerLimits { KvPoolBytes = 0 });
        using var client = new BlockServerClient(server.Address);
        await client.ForwardAsync("s", 0, Layers, 0, Hidden(Tokens, 0), Tokens, Model.Config.HiddenSize);
        Assert.True(await client.CloseSessionAsync("s"));

        Assert.Equal((0L, 0, 2L * Layers), (server.KvPool.IdleBytes, server.KvPool.IdleArrays, server.KvPool.Dropped));
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlockServerLimits { KvPoolBytes = -1 }.Validate());
    }

    [Fact]
    public void The_pool_budget_defaults_to_the_kv_budget()
    {
        var service = new BlockServerService(Model, new BlockServerLimits { MaxKvBytes = 12345 }, TimeProvider.System, bulk: null);
        Assert.Equal(12345L, service.KvPool.MaxIdleBytes);
    }

    private static void AssertSame(InferenceSession local, IReadOnlyList<KvCacheSnapshot> snapshots)
    {
        Assert.Equal(local.LayerCount, snapshots.Count);
        foreach (var snapshot in snapshots)
        {
            var cache = local.Cache(snapshot.BlockIndex);
            Assert.Equal(cache.TokenCount, snapshot.TokenCount);
            Assert.Equal(cache.Keys.ToArray(), snapshot.Keys);
            Assert.Equal(cache.Values.ToArray(), snapshot.Values);
        }
    }
}
