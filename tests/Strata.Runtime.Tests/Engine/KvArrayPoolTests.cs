using Strata.Runtime.Engine;

namespace Strata.Runtime.Tests.Engine;

public sealed class KvArrayPoolTests
{
    [Fact]
    public void A_returned_array_serves_a_later_request_for_the_same_or_a_smaller_length()
    {
        var pool = new KvArrayPool(1 << 20);
        var first = pool.Rent(1000);
        pool.Return(first);

        Assert.Same(first, pool.Rent(1000));
        pool.Return(first);
        Assert.Same(first, pool.Rent(990)); // same class
        pool.Return(first);
        Assert.Same(first, pool.Rent(600)); // a smaller class, within half of the array
        Assert.Equal((3L, 3L, 3L), (pool.Rented - 1, pool.Reused, pool.Returned));
    }

    [Fact]
    public void A_request_never_gets_an_array_shorter_than_asked_nor_more_than_twice_as_long()
    {
        var pool = new KvArrayPool(long.MaxValue);
        var random = new Random(7);
        var returned = Enumerable.Range(0, 200).Select(_ => pool.Rent(random.Next(1, 100_000))).ToList();
        returned.ForEach(pool.Return);

        for (var i = 0; i < 2000; i++)
        {
            var length = random.Next(1, 100_000);
            var array = pool.Rent(length);
            Assert.InRange(array.Length, length, 2 * length);
            pool.Return(array);
        }

        Assert.True(pool.Reused > 0);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(15)]
    [InlineData(16)]
    [InlineData(17)]
    [InlineData(1000)]
    [InlineData(256_000)]
    [InlineData(1 << 24)]
    [InlineData((1 << 24) + 1)]
    public void A_new_array_is_at_most_an_eighth_longer_than_asked(int length)
    {
        var array = new KvArrayPool(0).Rent(length);
        Assert.InRange(array.Length, length, length + (length / 8));
        Assert.Equal(array.Length, KvArrayPool.CeilingClass(length));
    }

    [Fact]
    public void An_array_is_not_reused_for_a_request_of_less_than_half_its_length()
    {
        var pool = new KvArrayPool(1 << 20);
        var large = pool.Rent(1024);
        pool.Return(large);

        Assert.NotSame(large, pool.Rent(500));
        Assert.Same(large, pool.Rent(512));
    }

    [Fact]
    public void Idle_arrays_never_pass_the_byte_budget_and_surplus_returns_are_dropped()
    {
        var pool = new KvArrayPool(10 * 1024 * sizeof(float));
        var arrays = Enumerable.Range(0, 4).Select(_ => pool.Rent(4096)).ToList();
        arrays.ForEach(pool.Return);

        Assert.Equal(2, pool.IdleArrays);
        Assert.Equal(2L * 4096 * sizeof(float), pool.IdleBytes);
        Assert.Equal((2L, 2L), (pool.Returned, pool.Dropped));

        pool.Rent(4096);
        Assert.Equal(4096L * sizeof(float), pool.IdleBytes);
    }

    [Fact]
    public void A_pool_with_no_budget_keeps_nothing()
    {
        var pool = new KvArrayPool(0);
        var array = pool.Rent(64);
        pool.Return(array);

        Assert.Equal((0L, 0, 1L), (pool.IdleBytes, pool.IdleArrays, pool.Dropped));
        Assert.NotSame(array, pool.Rent(64));
    }

    [Fact]
    public void Empty_requests_and_empty_returns_touch_nothing()
    {
        var pool = new KvArrayPool(1024);
        Assert.Empty(pool.Rent(0));
        pool.Return([]);
        Assert.Equal((0L, 0L, 0L), (pool.Rented, pool.Returned, pool.Dropped));
    }

    [Fact]
    public async Task Concurrent_rents_and_returns_never_hand_one_array_to_two_holders()
    {
        var pool = new KvArrayPool(1 << 24);
        var held = new HashSet<float[]>(ReferenceEqualityComparer.Instance);
        var heldLock = new Lock();
        var workers = Enumerable.Range(0, 4).Select(worker => Task.Run(() =>
        {
            var random = new Random(worker);
            for (var i = 0; i < 5000; i++)
            {
                var array = pool.Rent(random.Next(1, 4096));
                lock (heldLock)
                {
                    Assert.True(held.Add(array), "an array was handed out twice");
                }

                lock (heldLock)
                {
                    held.Remove(array);
                }

                pool.Return(array);
            }
        }));
        await Task.WhenAll(workers);

        Assert.Equal(pool.Returned - pool.Reused, pool.IdleArrays);
    }
}
