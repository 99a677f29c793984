using Strata.Performance.Calibration;
using Strata.Core;
using Strata.Core.Catalogs;
using Strata.Performance.Estimation;
using Strata.Performance.Memory;
using Strata.Performance.Roofline;

namespace Strata.Performance.Tests.Estimation;

public sealed class RequestEstimatorTests
{
    [Fact]
    public void End_to_end_is_prefill_plus_every_decode_step()
    {
        var deployment = TestDeployments.TinyOnRound();
        var model = new RooflineModel(deployment, RooflineCalibration.Default);

        var estimate = RequestEstimator.Estimate(model, new MemoryModel(deployment), promptTokens: 10, outputTokens: 4, batch: 2);

        var prefill = model.StepSeconds(BatchShape.Prefill(2, 10));
        var decodes = new[] { 11, 12, 13 }.Sum(context => model.StepSeconds(BatchShape.Decode(2, context)));
        Assert.Equal(prefill, estimate.TtftSeconds, 15);
        Assert.Equal(prefill + decodes, estimate.E2eSeconds, 15);
        Assert.Equal(decodes / 3, estimate.TbtSeconds, 15);
        Assert.True(estimate.LastTbtSeconds >= estimate.FirstTbtSeconds);
        Assert.Equal(2 * 4 / estimate.E2eSeconds, estimate.ThroughputTokensPerSecond, 9);
    }

    [Fact]
    public void One_output_token_has_no_decode_steps()
    {
        var deployment = TestDeployments.TinyOnRound();
        var model = new RooflineModel(deployment, RooflineCalibration.Default);

        var estimate = RequestEstimator.Estimate(model, new MemoryModel(deployment), 10, 1);

        Assert.Equal(0, estimate.TbtSeconds);
        Assert.Equal(estimate.TtftSeconds, estimate.E2eSeconds);
    }

    [Theory]
    [InlineData(0, 10, 1, "prompt tokens is 0")]
    [InlineData(10, -1, 1, "output tokens is -1")]
    [InlineData(10, 10, 0, "batch size is 0")]
    public void Non_positive_counts_are_rejected_with_a_clear_message(int prompt, int output, int batch, string expected)
    {
        var deployment = TestDeployments.TinyOnRound();
        var error = Assert.Throws<StrataException>(() =>
            RequestEstimator.Estimate(new RooflineModel(deployment, RooflineCalibration.Default), new MemoryModel(deployment), prompt, output, batch));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void Service_uses_the_measured_fit_for_a_measured_deployment_and_the_scored_device_model_elsewhere()
    {
        var measured = EstimateService.Run(new EstimateOptions { Model = "llama-2-70b", Gpu = "dgx-a100", PromptTokens = 1020, OutputTokens = 129 }, Catalog.BuiltIn);
        var unmeasured = EstimateService.Run(new EstimateOptions { Model = "llama-2-7b", Gpu = "l4", PromptTokens = 1020, OutputTokens = 129 }, Catalog.BuiltIn);

        Assert.StartsWith("fitted", measured.CalibrationSource);
        Assert.StartsWith("operators from a100 parameters", unmeasured.CalibrationSource);
        Assert.Equal("device", unmeasured.ModelName);
        Assert.Equal(ScoredModel.CalibratedKind, measured.PricedBy);
        Assert.Equal(ScoredModel.DeviceKind, unmeasured.PricedBy);
        Assert.NotNull(measured.ExpectedError);
        Assert.Null(measured.ExpectedError.Operators);
        Assert.Equal(ValidatedErrors.CalibratedHeldOutConfigurations, measured.ExpectedError.EndToEnd);
        Assert.NotNull(unmeasured.ExpectedError);
        Assert.Contains("l4 has no operator or end-to-end measurements", unmeasured.ExpectedError.Note);
        Assert.Equal(8, measured.Deployment.TensorParallel);
        // Splitwise Table IV, conversation P50 on DGX-A100: TTFT 155 ms, TBT 40 ms.
        Assert.InRange(measured.Estimate.TtftSeconds, 0.155 * 0.8, 0.155 * 1.2);
        Assert.InRange(measured.Estimate.TbtSeconds, 0.040 * 0.8, 0.040 * 1.25);
    }

    [Fact]
    public void Tensor_parallel_degree_beyond_the_machine_is_rejected()
    {
        var error = Assert.Throws<StrataException>(() =>
            EstimateService.Run(new EstimateOptions { Model = "llama-2-70b", Gpu = "dgx-a100", TensorParallel = 16, PromptTokens = 1, OutputTokens = 1 }, Catalog.BuiltIn));
        Assert.Contains("--tp is 16", error.Message);
    }
}
