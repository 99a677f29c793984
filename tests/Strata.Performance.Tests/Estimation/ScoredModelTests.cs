using Strata.Core;
using Strata.Performance.Calibration;
using Strata.Performance.Estimation;
using Strata.Performance.Operators;
using Strata.Performance.Profiles;
using Strata.Performance.Roofline;

namespace Strata.Performance.Tests.Estimation;

public sealed class ScoredModelTests
{
    private static readonly BatchShape[] Shapes =
    [
        BatchShape.Prefill(1, 1), BatchShape.Prefill(1, 512), BatchShape.Prefill(2, 3000), BatchShape.Prefill(3, 100, 20), BatchShape.Decode(1, 64),
        BatchShape.Decode(16, 2048), BatchShape.Prefill(1, 256) + BatchShape.Decode(8, 512),
    ];

    [Fact]
    public void Device_model_blocks_are_the_difference_of_its_own_step_predictions_and_blocks_plus_head_are_its_step()
    {
        // Oracle: the device model's step is linear in the layer count, so k blocks cost exactly what a (j + k)-layer
        // model's step costs more than a j-layer one's, and L blocks plus the head are the L-layer step.
        foreach (var (model, device, tp) in new[] { ("llama-2-7b", "a100-80gb", 1), ("mistral-7b", "l4", 1), ("llama-2-70b", "h100-80gb", 8), ("qwen2-72b", "a100-80gb", 4), ("phi-3-mini", "snapdragon-8-gen-3", 1) })
        {
            var deployment = TestDeployments.Catalog(model, device, tp);
            var (whole, _) = DeviceModels.For(deployment);
            var (three, _) = DeviceModels.For(new Deployment(deployment.Model with { LayerCount = 3 }, deployment.Machine, deployment.Precision));
            var (eight, _) = DeviceModels.For(new Deployment(deployment.Model with { LayerCount = 8 }, deployment.Machine, deployment.Precision));
            foreach (var shape in Shapes)
            {
                var step = whole.StepSeconds(shape);
                Assert.Equal(step, whole.BlocksSeconds(deployment.Model.LayerCount, shape) + whole.HeadSeconds(shape), step * 1e-12);
                var fiveBlocks = eight.StepSeconds(shape) - three.StepSeconds(shape);
                Assert.Equal(fiveBlocks, whole.BlocksSeconds(5, shape), fiveBlocks * 1e-9);
                Assert.True(whole.HeadSeconds(shape) > 0 && whole.BlocksSeconds(1, shape) > 0, $"{deployment.Model.Id} on {device}: positive parts");
            }
        }
    }

    [Fact]
    public void A_model_absent_from_every_table_is_priced_by_the_device_model_with_the_validated_leave_one_model_out_error()
    {
        var deployment = TestDeployments.Catalog("mistral-7b", "a100-80gb", 1);
        Assert.DoesNotContain(ProfileTable.BuiltIn.Keys, key => key.Model.Contains("mistral", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(OperatorProfileTable.BuiltIn.Rows, row => row.Model.Contains("mistral", StringComparison.OrdinalIgnoreCase));

        var scored = ScoredModel.For(deployment);

        Assert.Equal(ScoredModel.DeviceKind, scored.Kind);
        var device = Assert.IsType<DeviceModel>(scored.Model);
        Assert.Same(device, scored.Blocks);
        Assert.NotNull(scored.ExpectedError);
        Assert.Equal(ValidatedErrors.OperatorsLeaveOneModelOut["a100"], scored.ExpectedError.Operators);
        Assert.Equal(ValidatedErrors.EndToEndLeaveOneModelOut["a100-80gb"], scored.ExpectedError.EndToEnd);
        Assert.Null(scored.ExpectedError.Note);
        Assert.Contains("median 4.9%", scored.Describe(), StringComparison.Ordinal);
        // Not the default factors: their 15 ms per step (fitted at TP 8 on 70-80 layers) is not what prices this model.
        var defaults = new RooflineModel(deployment, RooflineCalibration.Default).StepSeconds(BatchShape.Decode(1, 1024));
        var priced = scored.Model.StepSeconds(BatchShape.Decode(1, 1024));
        Assert.True(Math.Abs(priced - defaults) > 0.05 * defaults, $"device model {priced} s vs default factors {defaults} s");
    }

    [Fact]
    public void A_measured_deployment_is_priced_by_its_calibrated_roofline_and_its_blocks_follow_that_step()
    {
        var deployment = TestDeployments.Catalog("llama-2-70b", "a100-80gb", 8);

        var scored = ScoredModel.For(deployment);

        Assert.Equal(ScoredModel.CalibratedKind, scored.Kind);
        var roofline = Assert.IsType<RooflineModel>(scored.Model);
        Assert.NotEqual(RooflineCalibration.Default, roofline.Calibration);
        Assert.Same(DeploymentExpectedError.Calibrated, scored.ExpectedError);
        foreach (var shape in Shapes)
        {
            var step = roofline.StepSeconds(shape);
            Assert.Equal(step, scored.Blocks.BlocksSeconds(80, shape) + scored.Blocks.HeadSeconds(shape), step * 1e-9);
        }
    }

    [Fact]
    public void A_calibrated_roofline_is_refused_for_a_deployment_without_measurements_instead_of_falling_back_to_default_factors()
    {
        var deployment = TestDeployments.Catalog("llama-2-7b", "a100-80gb", 1);

        Assert.False(CalibratedRoofline.HasMeasurements(deployment));
        var error = Assert.Throws<StrataException>(() => CalibratedRoofline.For(deployment));
        Assert.Contains("device model", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_device_that_is_not_a_whole_gpu_says_its_pricing_is_an_unscored_extrapolation()
    {
        var scored = ScoredModel.For(TestDeployments.Catalog("llama-2-7b", "snapdragon-8-gen-3", 1));

        Assert.Equal(ScoredModel.DeviceKind, scored.Kind);
        Assert.Contains("not a whole GPU", scored.ExpectedError!.Note, StringComparison.Ordinal);
        Assert.Contains("not validated", scored.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void Block_flops_need_no_calibration_and_match_the_roofline_difference_of_two_models()
    {
        foreach (var deployment in new[] { TestDeployments.Catalog("llama-2-7b", "a100-80gb", 1), TestDeployments.Catalog("llama-2-70b", "h100-80gb", 8) })
        {
            var blocks = new RooflineBlockCosts(deployment, new RooflineCalibration(0.3, 0.5, 0.01, 0.001, 0.2, 2000));
            foreach (var shape in Shapes)
            {
                var flops = blocks.BlockFlops(shape);
                Assert.Equal(flops, RooflineBlockCosts.FlopsPerBlock(deployment, shape), flops * 1e-9);
            }
        }
    }

    [Fact]
    public void Estimate_simulator_and_planners_share_one_choice()
    {
        var deployment = TestDeployments.Catalog("qwen2-7b", "h100-80gb", 1);
        var (model, source, expected) = EstimateService.PerformanceModelWithError(deployment, PerformanceProfile.Roofline, null);
        var scored = ScoredModel.For(deployment);

        Assert.Equal(scored.Source, source);
        Assert.Equal(scored.ExpectedError, expected);
        foreach (var shape in Shapes)
        {
            Assert.Equal(scored.Model.StepSeconds(shape), model.StepSeconds(shape));
        }
    }
}
