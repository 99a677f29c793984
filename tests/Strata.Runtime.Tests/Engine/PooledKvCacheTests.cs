using Strata.Runtime.Engine;

namespace Strata.Runtime.Tests.Engine;

public sealed class PooledKvCacheTests
{
    private const int Width = 8;

    // Distinct, recognisable floats: session s, token t, column c.
    private static float[] Rows(int session, int firstToken, int tokens) =>
        [.. Enumerable.Range(0, tokens * Width).Select(i => (session * 1_000_000f) + ((firstToken + (i / Width)) * 100f) + (i % Width))];

    [Fact]
    public void A_recycled_array_never_shows_another_sessions_values_in_a_new_sessions_cache()
    {
        var pool = new KvArrayPool(1 << 20);
        var small = new BlockKvCache(0, Width, pool);
        small.Append(Rows(1, 0, 20), Rows(1, 0, 20), 20);
        var large = new BlockKvCache(0, Width, pool);
        large.Append(Rows(2, 0, 40), Rows(2, 0, 40), 40);
        small.Release();
        large.Release();
        Assert.Equal((0, 0), (small.TokenCount, large.TokenCount));

        // Appends: only the new session's tokens are visible, although its arrays (of the same size class: 19 tokens
        // need 152 floats, whose class is 160) held 20 tokens of another.
        var fresh = new BlockKvCache(0, Width, pool);
        Assert.True(fresh.Keys.IsEmpty);
        fresh.Append(Rows(3, 0, 19), Rows(3, 0, 19), 19);
        Assert.Equal(2L, pool.Reused);
        Assert.Equal(Rows(3, 0, 19), fresh.Keys.ToArray());
        Assert.Equal(Rows(3, 0, 19), fresh.Values.ToArray());

        // Growing (doubling to 40 tokens) into the other recycled arrays (40 tokens of another session) copies the cached tokens only.
        fresh.Append(Rows(3, 19, 14), Rows(3, 19, 14), 14);
        Assert.Equal(4L, pool.Reused);
        Assert.Equal(Rows(3, 0, 33), fresh.Keys.ToArray());
        fresh.Truncate(5);
        Assert.Equal(Rows(3, 0, 5), fresh.Values.ToArray());
        fresh.Release();

        // Reserve shows nothing; an Overwrite that is abandoned (truncated to 0) shows nothing.
        var imported = new BlockKvCache(0, Width, pool);
        imported.Reserve(40);
        Assert.True(imported.Keys.IsEmpty && imported.Values.IsEmpty);
        imported.Overwrite(40, out _, out _);
        imported.Truncate(0);
        Assert.True(imported.Keys.IsEmpty && imported.Values.IsEmpty);
        imported.Overwrite(2, out var keys, out var values);
        Rows(4, 0, 2).CopyTo(keys);
        Rows(4, 0, 2).CopyTo(values);
        Assert.Equal(Rows(4, 0, 2), imported.Keys.ToArray());
        Assert.Equal(Rows(4, 0, 2), imported.Values.ToArray());
    }

    [Fact]
    public void Growth_rents_the_new_arrays_and_returns_the_old_ones()
    {
        var pool = new KvArrayPool(1 << 20);
        var cache = new BlockKvCache(0, Width, pool);
        cache.Append(Rows(1, 0, 1), Rows(1, 0, 1), 1); // 16 tokens' room
        Assert.Equal((2L, 0L), (pool.Rented, pool.Returned));

        cache.Append(Rows(1, 1, 16), Rows(1, 1, 16), 16); // doubles to 32 tokens
        Assert.Equal((4L, 2L), (pool.Rented, pool.Returned));
        Assert.Equal(2L * 16 * Width * sizeof(float), pool.IdleBytes);

        cache.Release();
        Assert.Equal(4L, pool.Returned);
        Assert.Equal(2L * (16 + 32) * Width * sizeof(float), pool.IdleBytes);
    }

    [Fact]
    public void A_released_session_gives_every_cache_to_the_pool_and_can_be_used_again()
    {
        var config = TestModels.Tiny().Config;
        var pool = new KvArrayPool(1 << 24);
        var session = new InferenceSession(config, pool);
        var hidden = TestModels.Tiny().Embed([5, 6, 7]);
        TestModels.Tiny().ForwardBlocks(session, 0, config.LayerCount, hidden.ToArray(), 3);
        var bytes = session.KvSizeBytes;

        session.Release();
        Assert.Equal(0, session.KvSizeBytes);
        Assert.Equal(2 * config.LayerCount, pool.IdleArrays);
        Assert.True(pool.IdleBytes >= bytes);

        TestModels.Tiny().ForwardBlocks(session, 0, config.LayerCount, hidden.ToArray(), 3);
        Assert.Equal(0, pool.IdleArrays);
        Assert.Equal(bytes, session.KvSizeBytes);
    }

    [Fact]
    public void A_pooled_session_computes_the_same_bits_as_an_unpooled_one_after_recycling()
    {
        var model = TestModels.Tiny();
        int layers = model.Config.LayerCount, hiddenSize = model.Config.HiddenSize;
        var pool = new KvArrayPool(1 << 24);
        var dirty = new InferenceSession(model.Config, pool);
        model.ForwardBlocks(dirty, 0, layers, model.Embed([.. Enumerable.Range(40, 16)]), 16); // arrays of the class the prompt's growth asks for
        dirty.Release();

        int[] prompt = [3, 1, 4, 1, 5, 9, 2, 6];
        var pooled = new InferenceSession(model.Config, pool);
        var plain = model.CreateSession();
        var a = model.Embed(prompt);
        var b = model.Embed(prompt);
        model.ForwardBlocks(pooled, 0, layers, a, prompt.Length);
        model.ForwardBlocks(plain, 0, layers, b, prompt.Length);
        Assert.True(pool.Reused > 0);
        Assert.Equal(b, a);

        var nextA = model.Embed([7]);
        var nextB = model.Embed([7]);
        model.ForwardBlocks(pooled, 0, layers, nextA, 1);
        model.ForwardBlocks(plain, 0, layers, nextB, 1);
        Assert.Equal(nextB, nextA);
        Assert.Equal(hiddenSize, nextA.Length);
    }
}
