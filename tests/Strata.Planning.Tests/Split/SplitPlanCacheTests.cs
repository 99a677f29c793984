using System.Collections.Concurrent;
using Strata.Core.Identity;
using Strata.Planning.Split;

namespace Strata.Planning.Tests.Split;

public sealed class SplitPlanCacheTests
{
    private static readonly SplitInstance Instance = new([new SplitLayer(1, 0.5, 0.25, 0.25, 1)], slaSeconds: 2);

    [Fact]
    public void The_same_key_returns_the_same_plan_object_and_plans_once()
    {
        var cache = new SplitPlanCache<SplitCacheKey>();
        var calls = 0;
        SplitPlan Plan(SplitCacheKey key)
        {
            calls++;
            return new ParetoDpSplitPlanner().Plan(Instance);
        }

        var first = cache.GetOrAdd(Key(128), Plan);
        var second = cache.GetOrAdd(Key(128), Plan);
        var other = cache.GetOrAdd(Key(256), Plan);

        Assert.Same(first, second);
        Assert.NotSame(first, other);
        Assert.Equal(2, calls);
        Assert.Equal(1, cache.Hits);
        Assert.Equal(2, cache.Misses);
    }

    [Fact]
    public void The_cache_is_bounded_and_evicts_the_least_recently_used_plan()
    {
        var cache = new SplitPlanCache<int>(capacity: 3);
        var planner = new ParetoDpSplitPlanner();
        for (var key = 0; key < 3; key++)
        {
            cache.GetOrAdd(key, _ => planner.Plan(Instance));
        }

        Assert.True(cache.TryGet(0, out _)); // 0 is now the most recent; 1 the least.
        for (var key = 3; key < 10; key++)
        {
            cache.GetOrAdd(key, _ => planner.Plan(Instance));
            Assert.True(cache.Count <= 3);
        }

        Assert.Equal(3, cache.Count);
        Assert.False(cache.TryGet(1, out _));
        Assert.True(cache.TryGet(9, out _));
    }

    [Fact]
    public void Clear_forgets_every_plan()
    {
        var cache = new SplitPlanCache<int>();
        var planner = new ParetoDpSplitPlanner();
        var before = cache.GetOrAdd(1, _ => planner.Plan(Instance));

        cache.Clear();

        Assert.Equal(0, cache.Count);
        Assert.NotSame(before, cache.GetOrAdd(1, _ => planner.Plan(Instance)));
    }

    [Fact]
    public void Concurrent_callers_of_one_key_all_get_one_plan_object()
    {
        var cache = new SplitPlanCache<int>(capacity: 64);
        var planner = new ParetoDpSplitPlanner();
        var seen = new ConcurrentDictionary<int, ConcurrentBag<SplitPlan>>();

        Parallel.For(0, 4000, i =>
        {
            var key = i % 16;
            seen.GetOrAdd(key, _ => []).Add(cache.GetOrAdd(key, _ => planner.Plan(Instance)));
        });

        Assert.Equal(16, cache.Count);
        foreach (var (key, plans) in seen)
        {
            Assert.True(cache.TryGet(key, out var stored));
            Assert.All(plans, plan => Assert.Same(stored, plan));
        }
    }

    private static SplitCacheKey Key(int promptTokens) =>
        new(new ModelId("llama-2-7b"), new DeviceId("snapdragon-8-gen-3"), new DeviceId("a100-80gb"), "5g", promptTokens, 64, 10, null, "dp");
}
