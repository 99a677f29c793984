using Strata.Core;
using Strata.Performance.Profiles;
using Strata.Performance.Roofline;

namespace Strata.Performance.Tests.Profiles;

public sealed class BlockCostModelTests
{
    private static readonly BatchShape[] Shapes =
    [
        BatchShape.Prefill(1, 1), BatchShape.Prefill(1, 512), BatchShape.Prefill(3, 100, 20), BatchShape.Decode(1, 64), BatchShape.Decode(16, 2048),
        BatchShape.Prefill(1, 256) + BatchShape.Decode(8, 512),
    ];

    [Fact]
    public void Roofline_blocks_and_head_plus_the_overheads_add_up_to_the_whole_model_step()
    {
        // Oracle: the roofline's terms are linear in the block count, so L blocks + head + step overheads = the L-block model.
        foreach (var deployment in new[] { TestDeployments.TinyOnRound(), TestDeployments.Catalog("llama-2-70b", "h100-80gb", 8), TestDeployments.Catalog("llama-2-7b", "a100-80gb", 1) })
        {
            var whole = new RooflineModel(deployment, RooflineCalibration.Default);
            var blocks = new RooflineBlockCosts(deployment, RooflineCalibration.Default);
            foreach (var shape in Shapes)
            {
                var cost = whole.Cost(shape);
                var parts = blocks.BlocksSeconds(deployment.Model.LayerCount, shape) + blocks.HeadSeconds(shape) + cost.OverheadSeconds;
                Assert.Equal(cost.TotalSeconds, parts, cost.TotalSeconds * 1e-9);
                Assert.Equal(3 * blocks.BlocksSeconds(1, shape), blocks.BlocksSeconds(3, shape), 15);
            }
        }
    }

    [Fact]
    public void Scaled_costs_follow_a_measured_model_so_all_blocks_and_the_head_take_its_step_time()
    {
        var deployment = TestDeployments.Catalog("llama-2-70b", "h100-80gb", 8);
        var measured = new MeasuredProfileModel(deployment, ProfileTable.BuiltIn);
        var scaled = new ScaledBlockCosts(measured, new RooflineBlockCosts(deployment, RooflineCalibration.Default));
        Assert.Equal("measured", scaled.Name);
        foreach (var shape in Shapes)
        {
            var step = measured.StepSeconds(shape);
            Assert.Equal(step, scaled.BlocksSeconds(deployment.Model.LayerCount, shape) + scaled.HeadSeconds(shape), step * 1e-9);
        }
    }

    private static RuntimeProfile Profile() => new()
    {
        Model = "tiny",
        LayerCount = 4,
        Machine = "test",
        Repetitions = 5,
        WarmupIterations = 3,
        PrefillSecondsPerBlock = [new(1, 1e-3), new(9, 5e-3)],
        DecodeSecondsPerBlock = [new(1, 1e-3), new(101, 2e-3)],
        HeadPrefillSeconds = 4e-3,
        HeadDecodeSeconds = 3e-3,
        HopOverheadSeconds = 5e-4,
        ConcurrencySlowdown = [new(1, 1), new(4, 3)],
    };

    [Fact]
    public void A_runtime_profile_interpolates_its_curves_and_prices_each_sequence_alone()
    {
        var profile = Profile();
        Assert.Equal(3e-3, profile.PrefillSeconds(5), 15);
        Assert.Equal(1.5e-3, profile.DecodeSeconds(51), 15);
        Assert.Equal(2 * ((2 * 3e-3) + (4 * 1.5e-3)), profile.BlocksSeconds(2, BatchShape.Prefill(2, 5) + BatchShape.Decode(4, 51)), 15);
        Assert.Equal((2 * 4e-3) + 3e-3, profile.HeadSeconds(BatchShape.Prefill(2, 5) + BatchShape.Decode(1, 51)), 15);
        Assert.Equal(1, profile.Slowdown(1));
        Assert.Equal(5.0 / 3, profile.Slowdown(2), 12); // a third of the way from 1 (one session) to 3 (four)
    }

    [Fact]
    public void A_delayed_steps_extra_scales_with_its_blocks_interpolates_by_the_delay_and_holds_at_the_ends()
    {
        var old = Profile() with { DelayedStepExtraSeconds = 2e-4 };
        Assert.Equal(2e-4, old.DelayedStepExtra(6, 0.05)); // no curve: the one figure for every step
        Assert.Equal(0, old.DelayedStepExtra(6, 0));       // no delay, no extra

        var curve = old with { DelayedStepExtraPerBlock = [new(5, 1e-4), new(20, 4e-4), new(80, 1e-3)] };
        Assert.Equal(6 * 4e-4, curve.DelayedStepExtra(6, 0.020), 15);
        Assert.Equal(6 * 7e-4, curve.DelayedStepExtra(6, 0.050), 15); // halfway from 20 to 80 ms
        Assert.Equal(3 * 1e-4, curve.DelayedStepExtra(3, 0.001), 15);  // below the first delay measured: held
        Assert.Equal(3 * 1e-3, curve.DelayedStepExtra(3, 0.500), 15);  // beyond the last: held, not extrapolated
        Assert.Equal(0, curve.DelayedStepExtra(3, 0));

        var copy = curve with { DelayedStepExtraPerBlock = [new(5, 2e-4), new(80, 2e-4)] }; // the original's curve is built by now
        Assert.Equal(6 * 2e-4, copy.DelayedStepExtra(6, 0.050), 15);
    }

    [Fact]
    public void A_copy_with_new_points_prices_with_the_new_points_not_the_curves_its_original_had_built()
    {
        var original = Profile();
        _ = (original.PrefillSeconds(5), original.DecodeSeconds(51), original.Slowdown(2), original.BatchCost(2)); // build every curve
        var copy = original with
        {
            PrefillSecondsPerBlock = [new(1, 2e-3), new(9, 10e-3)],
            DecodeSecondsPerBlock = [new(1, 2e-3), new(101, 4e-3)],
            ConcurrencySlowdown = [new(1, 1), new(4, 5)],
            DecodeBatchCost = [new(1, 1), new(3, 2)],
        };

        Assert.Equal(6e-3, copy.PrefillSeconds(5), 15);
        Assert.Equal(3e-3, copy.DecodeSeconds(51), 15);
        Assert.Equal(7.0 / 3, copy.Slowdown(2), 12);
        Assert.Equal(1.5, copy.BatchCost(2), 12);
        Assert.Equal(3e-3, original.PrefillSeconds(5), 15); // the original keeps its own
    }

    [Fact]
    public void A_runtime_profile_survives_a_round_trip_through_its_file_and_a_bad_file_names_its_field()
    {
        var path = Path.Combine(Path.GetTempPath(), $"strata-profile-{Guid.NewGuid():N}.json");
        try
        {
            Profile().Save(path);
            var loaded = RuntimeProfile.Load(path);
            Assert.Equal(Profile().PrefillSecondsPerBlock, loaded.PrefillSecondsPerBlock);
            Assert.Equal(Profile().DecodeSeconds(40), loaded.DecodeSeconds(40), 15);
            File.WriteAllText(path, File.ReadAllText(path).Replace("\"hopOverheadSeconds\": 0.0005", "\"hopOverheadSeconds\": -1", StringComparison.Ordinal));
            var error = Assert.Throws<StrataException>(() => RuntimeProfile.Load(path));
            Assert.Contains("hopOverheadSeconds", error.Message, StringComparison.Ordinal);
            File.WriteAllText(path, "{ not json");
            Assert.Contains(path, Assert.Throws<StrataException>(() => RuntimeProfile.Load(path)).Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_runtime_profile_without_the_batch_fields_still_loads_and_one_with_them_keeps_them()
    {
        var path = Path.Combine(Path.GetTempPath(), $"strata-profile-{Guid.NewGuid():N}.json");
        try
        {
            // A file written before the batch fields existed: none of them in the JSON.
            Profile().Save(path);
            var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!.AsObject();
            foreach (var field in new[] { "decodeBatchCost", "logicalProcessors", "decodeBatchWaitSeconds", "decodeReturnWaitSeconds", "delayedStepExtraSeconds", "sessionOpenSeconds" })
            {
                Assert.True(json.Remove(field), field);
            }

            File.WriteAllText(path, json.ToJsonString());
            var old = RuntimeProfile.Load(path);
            Assert.False(old.HasBatchModel);
            Assert.Equal(4, old.BatchCost(4)); // no measured gain: m rows cost m steps

            var batched = Profile() with { DecodeBatchCost = [new(1, 1), new(4, 1.6)], LogicalProcessors = 2, DecodeBatchWaitSeconds = 2e-3, DecodeReturnWaitSeconds = 0.02 };
            batched.Save(path);
            var loaded = RuntimeProfile.Load(path);
            Assert.True(loaded.HasBatchModel);
            Assert.Equal(1.2, loaded.BatchCost(2), 12); // a third of the way from 1 (one row) to 1.6 (four)
            Assert.Equal((2, 2e-3, 0.02), (loaded.LogicalProcessors, loaded.DecodeBatchWaitSeconds, loaded.DecodeReturnWaitSeconds));
            Assert.Equal(0, old.DecodeReturnWaitSeconds); // not recorded: the predictor models the batcher without the return wait
            File.WriteAllText(path, File.ReadAllText(path).Replace("\"logicalProcessors\": 2", "\"logicalProcessors\": -1", StringComparison.Ordinal));
            Assert.Contains("logicalProcessors", Assert.Throws<StrataException>(() => RuntimeProfile.Load(path)).Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
