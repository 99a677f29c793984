using Grpc.Core;
using Strata.Runtime.Engine;
using Strata.Runtime.Serving;

namespace Strata.Runtime.Tests.Serving;

[Trait("Category", "Integration")]
public sealed class KvBudgetTests
{
    private static readonly LlamaModel Model = TestModels.TinyBlocks();

    private static int Layers => Model.Config.LayerCount;

    private static int Width => Model.Config.HiddenSize;

    private static int Dimension => Model.Config.KeyValueDimension;

    // Bytes of a whole session's arrays with room for this many tokens in every block (tiny: 32 floats a token, so the
    // lengths used here are exact pool classes).
    private static long SessionBytes(int tokens) => Layers * BlockKvCache.BytesFor(tokens, Dimension);

    private static float[] Hidden(int tokens, int offset) =>
        TestModels.Tiny().Embed([.. Enumerable.Range(0, tokens).Select(i => 32 + ((i * 5) + offset) % 90)]);

    [Fact]
    public async Task A_cache_grown_a_token_at_a_time_counts_its_doubled_capacity_not_its_tokens()
    {
        await using var server = await BlockServerHost.StartAsync(Model);
        using var client = new BlockServerClient(server.Address);
        await client.ForwardAsync("s", 0, Layers, 0, Hidden(3, 0), 3, Width);
        Assert.Equal(SessionBytes(16), server.KvBytes); // room for 16 tokens, three used

        for (var position = 3; position < 17; position++)
        {
            await client.ForwardAsync("s", 0, Layers, position, Hidden(1, position), 1, Width);
        }

        Assert.Equal(SessionBytes(32), server.KvBytes); // the 17th token doubled every array
        Assert.True(await client.CloseSessionAsync("s"));
        Assert.Equal(0L, server.KvBytes);
    }

    [Fact]
    public async Task A_step_whose_growth_would_pass_the_budget_is_refused_although_its_tokens_would_fit()
    {
        // Room for 24 tokens' worth: 17 tokens fit by their bytes, but the arrays they need (32 tokens) do not.
        await using var server = await BlockServerHost.StartAsync(Model, limits: new BlockServerLimits { MaxKvBytes = SessionBytes(24) });
        using var client = new BlockServerClient(server.Address);
        await client.ForwardAsync("s", 0, Layers, 0, Hidden(16, 0), 16, Width);
        var refused = await Assert.ThrowsAsync<RpcException>(() => client.ForwardAsync("s", 0, Layers, 16, Hidden(1, 1), 1, Width));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Equal(SessionBytes(16), server.KvBytes);
    }

    [Fact]
    public async Task A_session_that_states_its_tokens_is_sized_once_and_runs_to_the_end_beside_a_full_server()
    {
        await using var server = await BlockServerHost.StartAsync(Model, limits: new BlockServerLimits { MaxKvBytes = SessionBytes(40) + SessionBytes(16) });
        using var client = new BlockServerClient(server.Address);
        await client.ForwardAsync("sized", 0, Layers, 0, Hidden(4, 0), 4, Width, expectedTokens: 40);
        Assert.Equal(SessionBytes(40), server.KvBytes);

        // Another session takes the rest of the budget; the first still has room for every token it announced.
        await client.ForwardAsync("other", 0, Layers, 0, Hidden(16, 2), 16, Width);
        var full = await Assert.ThrowsAsync<RpcException>(() => client.ForwardAsync("third", 0, Layers, 0, Hidden(1, 3), 1, Width));
        Assert.Equal(StatusCode.ResourceExhausted, full.StatusCode);
        for (var position = 4; position < 40; position++)
        {
            await client.ForwardAsync("sized", 0, Layers, position, Hidden(1, position), 1, Width, expectedTokens: 40);
        }

        Assert.Equal(SessionBytes(40) + SessionBytes(16), server.KvBytes);
        Assert.Equal(2, server.SessionCount); // the refused first step left nothing
    }

    [Fact]
    public async Task A_sized_session_computes_the_same_hidden_states_as_a_local_one()
    {
        await using var server = await BlockServerHost.StartAsync(Model);
        using var client = new BlockServerClient(server.Address);
        var local = Model.CreateSession();
        var prompt = Hidden(5, 7);
        var expected = prompt.ToArray();
        Model.ForwardBlocks(local, 0, Layers, expected, 5);
        await client.ForwardAsync("s", 0, Layers, 0, prompt, 5, Width, expectedTokens: 12);
        Assert.Equal(expected, prompt);

        var next = Hidden(1, 9);
        var nextExpected = next.ToArray();
        Model.ForwardBlocks(local, 0, Layers, nextExpected, 1);
        await client.ForwardAsync("s", 0, Layers, 5, next, 1, Width, expectedTokens: 12);
        Assert.Equal(nextExpected, next);
    }

    [Fact]
    public async Task A_client_past_its_session_quota_is_refused_until_it_closes_one()
    {
        await using var server = await BlockServerHost.StartAsync(Model, limits: new BlockServerLimits { MaxSessionsPerClient = 2 });
        using var client = new BlockServerClient(server.Address);
        using var sameHost = new BlockServerClient(server.Address); // another connection from the same host counts too
        await client.ForwardAsync("a", 0, Layers, 0, Hidden(2, 0), 2, Width);
        await client.ForwardAsync("b", 0, Layers, 0, Hidden(2, 1), 2, Width);
        var refused = await Assert.ThrowsAsync<RpcException>(() => sameHost.ForwardAsync("c", 0, Layers, 0, Hidden(2, 2), 2, Width));
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.Contains("quota of 2 sessions", refused.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(2, server.SessionCount);

        await client.ForwardAsync("a", 0, Layers, 2, Hidden(1, 3), 1, Width); // its own sessions still run
        Assert.True(await client.CloseSessionAsync("a"));
        await sameHost.ForwardAsync("c", 0, Layers, 0, Hidden(2, 2), 2, Width);
        Assert.Equal(2, server.SessionCount);
    }

    [Fact]
    public void The_session_quota_must_be_positive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlockServerLimits { MaxSessionsPerClient = 0 }.Validate());
        Assert.Null(new BlockServerLimits().Validate().MaxSessionsPerClient);
    }

    [Fact]
    public async Task A_negative_expected_token_count_is_an_invalid_argument_and_opens_no_session()
    {
        await using var server = await BlockServerHost.StartAsync(Model);
        using var client = new BlockServerClient(server.Address);
        var error = await Assert.ThrowsAsync<RpcException>(() => client.ForwardAsync("s", 0, Layers, 0, Hidden(2, 0), 2, Width, expectedTokens: -1));
        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal(0, server.SessionCount);
    }

    [Fact]
    public void Growth_is_sized_to_the_expected_tokens_when_they_cover_the_step_and_doubles_otherwise()
    {
        var cache = new BlockKvCache(0, 8, new KvArrayPool(1 << 20));
        Assert.Equal(16, cache.GrowthTokens(3, expectedTokens: 0));
        Assert.Equal(40, cache.GrowthTokens(3, expectedTokens: 40));
        Assert.Equal(50, cache.GrowthTokens(50, expectedTokens: 40)); // past the announcement: what the step needs
        cache.Reserve(cache.GrowthTokens(3, expectedTokens: 0));
        Assert.Equal(32, cache.GrowthTokens(17, expectedTokens: 0));

        // What admission counts is what the arrays then hold, for lengths on and off the pool's classes.
        foreach (var tokens in new[] { 17, 33, 100, 123, 1000 })
        {
            var counted = cache.CapacityBytesFor(tokens);
            cache.Reserve(tokens);
            Assert.Equal(counted, cache.CapacityBytes);
            Assert.True(cache.CapacityTokens >= tokens && cache.CapacityBytes <= BlockKvCache.BytesFor(tokens, 8) * 9 / 8 + 64,
                $"{tokens} tokens got room for {cache.CapacityTokens}");
        }
    }
}
