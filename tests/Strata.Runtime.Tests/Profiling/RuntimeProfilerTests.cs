using Strata.Core;
using Strata.Runtime.Profiling;

namespace Strata.Runtime.Tests.Profiling;

[Trait("Category", "Integration")]
public sealed class RuntimeProfilerTests
{
    private static readonly RuntimeProfilerOptions Small = new()
    {
        PromptTokens = [4, 1],
        ContextTokens = [8, 2],
        Concurrency = [1, 2],
        Repetitions = 3,
        WarmupIterations = 1,
    };

    [Fact]
    public async Task A_profile_measures_every_size_asked_and_a_refresh_measures_the_absolute_costs_again_keeping_the_ratios()
    {
        var profile = await RuntimeProfiler.MeasureAsync(TestModels.TinyDirectory(), Small);
        Assert.Equal([1, 4], profile.PrefillSecondsPerBlock.Select(p => p.Size));
        Assert.Equal([2, 8], profile.DecodeSecondsPerBlock.Select(p => p.Size));
        Assert.All(profile.PrefillSecondsPerBlock.Concat(profile.DecodeSecondsPerBlock), p => Assert.True(p.Value > 0, p.ToString()));
        Assert.True(profile.HeadPrefillSeconds > 0 && profile.HeadDecodeSeconds > 0);
        Assert.Equal([1, 2, 8], profile.DecodeBatchCost!.Select(p => p.Size)); // the servers' sizes and 8 rows
        Assert.Equal(1, profile.DecodeBatchCost![0].Value);
        Assert.Equal(RuntimeProfiler.EmulatedLinkProbesMs, profile.DelayedStepExtraPerBlock!.Select(p => p.Size)); // a delayed step's extra, per delay probed
        Assert.All(profile.DelayedStepExtraPerBlock!, p => Assert.True(p.Value >= 0, p.ToString()));

        _ = profile.DecodeSeconds(2); // the original's curve built: the copy must not price with it
        var refreshed = await RuntimeProfiler.RefreshAsync(TestModels.TinyDirectory(), TestModels.Tiny(), profile, Small);
        Assert.Equal([1, 4], refreshed.PrefillSecondsPerBlock.Select(p => p.Size));
        Assert.Equal([2, 8], refreshed.DecodeSecondsPerBlock.Select(p => p.Size));
        Assert.NotSame(profile.DecodeSecondsPerBlock, refreshed.DecodeSecondsPerBlock);
        Assert.Equal(refreshed.DecodeSecondsPerBlock[0].Value, refreshed.DecodeSeconds(2)); // prices with its own points
        Assert.True(refreshed.HopOverheadSeconds >= 0 && refreshed.SessionOpenSeconds >= 0);
        Assert.Same(profile.DecodeBatchCost, refreshed.DecodeBatchCost); // ratios are kept
        Assert.Same(profile.ConcurrencySlowdown, refreshed.ConcurrencySlowdown);
        Assert.Same(profile.DelayedStepExtraPerBlock, refreshed.DelayedStepExtraPerBlock);
        Assert.Same(profile.PrefillConcurrency, refreshed.PrefillConcurrency);
    }

    [Fact]
    public async Task A_refresh_refuses_a_profile_of_another_model()
    {
        var model = TestModels.Tiny();
        var profile = new Performance.Profiles.RuntimeProfile
        {
            Model = "other",
            LayerCount = model.Config.LayerCount + 1,
            Machine = "test",
            Repetitions = 3,
            WarmupIterations = 1,
            PrefillSecondsPerBlock = [new(1, 1e-3)],
            DecodeSecondsPerBlock = [new(1, 1e-3)],
            HeadPrefillSeconds = 1e-3,
            HeadDecodeSeconds = 1e-3,
            HopOverheadSeconds = 1e-4,
            ConcurrencySlowdown = [new(1, 1)],
        };

        var error = await Assert.ThrowsAsync<StrataException>(() => RuntimeProfiler.RefreshAsync(TestModels.TinyDirectory(), model, profile, Small));
        Assert.Contains($"{profile.LayerCount} blocks", error.Message, StringComparison.Ordinal);
    }
}

public sealed class RuntimeProfileMedianTests
{
    [Fact]
    public void The_median_of_profiles_takes_each_cost_point_by_point_and_keeps_the_first_profiles_ratios()
    {
        var a = Fixed(1e-3, 1);
        var b = Fixed(5e-3, 2) with { ConcurrencySlowdown = [new(1, 1), new(4, 9)] };
        var c = Fixed(2e-3, 3);
        var median = RuntimeProfiler.Median([a, b, c]);
        Assert.Equal([2e-3, 4e-3], median.PrefillSecondsPerBlock.Select(p => p.Value)); // per point: (1, 5, 2) and (2, 10, 4) ms
        Assert.Equal([2e-3, 4e-3], median.DecodeSecondsPerBlock.Select(p => p.Value));
        Assert.Equal(2e-3, median.HeadDecodeSeconds);
        Assert.Equal(2e-4, median.HopOverheadSeconds, 15);
        Assert.Equal(2e-3, median.SessionOpenSeconds, 15);
        Assert.Same(a.ConcurrencySlowdown, median.ConcurrencySlowdown);
        Assert.Equal(3e-3, RuntimeProfiler.Median([a, b]).HeadPrefillSeconds, 15); // an even count: the mean of the middle two
        Assert.Same(a, RuntimeProfiler.Median([a]));

        var otherSizes = a with { DecodeSecondsPerBlock = [new(1, 1e-3)] };
        Assert.Contains("different models or sizes", Assert.Throws<StrataException>(() => RuntimeProfiler.Median([a, otherSizes])).Message, StringComparison.Ordinal);
        Assert.Throws<StrataException>(() => RuntimeProfiler.Median([]));
    }

    // A profile whose every cost is a multiple of `seconds` (the curves' second point twice the first), hop and opening scaled by `scale`.
    private static Performance.Profiles.RuntimeProfile Fixed(double seconds, double scale) => new()
    {
        Model = "m",
        LayerCount = 2,
        Machine = "test",
        Repetitions = 3,
        WarmupIterations = 1,
        PrefillSecondsPerBlock = [new(1, seconds), new(8, 2 * seconds)],
        DecodeSecondsPerBlock = [new(2, seconds), new(16, 2 * seconds)],
        HeadPrefillSeconds = seconds,
        HeadDecodeSeconds = seconds,
        HopOverheadSeconds = 1e-4 * scale,
        SessionOpenSeconds = 1e-3 * scale,
        ConcurrencySlowdown = [new(1, 1)],
    };
}
