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

        var refreshed = await RuntimeProfiler.RefreshAsync(TestModels.TinyDirectory(), TestModels.Tiny(), profile, Small);
        Assert.Equal([1, 4], refreshed.PrefillSecondsPerBlock.Select(p => p.Size));
        Assert.Equal([2, 8], refreshed.DecodeSecondsPerBlock.Select(p => p.Size));
        Assert.NotSame(profile.DecodeSecondsPerBlock, refreshed.DecodeSecondsPerBlock);
        Assert.Equal(refreshed.DecodeSecondsPerBlock[0].Value, refreshed.DecodeSeconds(2)); // prices with its own points
        Assert.True(refreshed.HopOverheadSeconds >= 0 && refreshed.SessionOpenSeconds >= 0);
        Assert.Same(profile.DecodeBatchCost, refreshed.DecodeBatchCost); // ratios are kept
        Assert.Same(profile.ConcurrencySlowdown, refreshed.ConcurrencySlowdown);
        Assert.Equal(profile.DelayedStepExtraSeconds, refreshed.DelayedStepExtraSeconds);
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
