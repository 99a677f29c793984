using Strata.Core.Catalogs;
using Strata.Core.Hardware;
using Strata.Core.Models;
using Strata.Performance;
using Strata.Performance.Estimation;
using Strata.Performance.Operators;
using Strata.Planning.Swarm;

namespace Strata.Planning.Tests.Swarm;

public sealed class SwarmCostPresetsTests
{
    [Fact]
    public void Swarm_block_costs_are_the_device_models_own_block_predictions_and_say_so()
    {
        // Closed form: each server's decode time per block is the device model's one-block time at the mid-session
        // context, and its prefill line passes through the model's one-block times at 1 and 1,024 tokens.
        var model = Catalog.BuiltIn.Model("llama-2-70b");
        var devices = new[] { Catalog.BuiltIn.Device("a100-80gb"), Catalog.BuiltIn.Device("a100-mig-1g.10gb"), Catalog.BuiltIn.Device("l40s") };

        var costs = SwarmCostPresets.FromPerformanceModel(model, devices, Precision.Int4, promptTokens: 20, outputTokens: 64);

        Assert.Equal("device-model:llama-2-70b/int4", costs.Name);
        Assert.Equal(3, costs.Pricing.Count);
        foreach (var device in devices)
        {
            var (expected, _) = DeviceModels.For(new Deployment(model, MachineSpec.Of(device), Precision.Int4));
            var c = costs.Device(device.Id.Value);
            var decode = expected.BlocksSeconds(1, BatchShape.Decode(1, 20 + 32));
            Assert.Equal(decode, c.DecodeSecondsPerBlock, decode * 1e-12);
            var one = expected.BlocksSeconds(1, BatchShape.Prefill(1, 1));
            var many = expected.BlocksSeconds(1, BatchShape.Prefill(1, 1024));
            Assert.Equal(one, c.PrefillSecondsPerBlockBase + c.PrefillSecondsPerBlockPerToken, one * 1e-9);
            Assert.Equal(many, c.PrefillSecondsPerBlockBase + (1024 * c.PrefillSecondsPerBlockPerToken), many * 1e-9);
            Assert.Contains(costs.Pricing, line => line.StartsWith($"{ScoredModel.DeviceKind} (llama-2-70b on 1 x {device.Id})", StringComparison.Ordinal) && line.Contains("expected error", StringComparison.Ordinal));
        }
    }
}
