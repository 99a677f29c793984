using Strata.Core.Catalogs;
using Strata.Performance.Calibration;
using Strata.Performance.Profiles;

namespace Strata.Performance.Tests.Calibration;

public sealed class CrossModelValidationTests
{
    [Fact]
    public void Leave_one_model_out_meets_the_targets_on_each_gpu()
    {
        // Issue 13's target: on each of A100 and H100, fitted without a model, the model's operator sums are predicted
        // with median error <= 15% and 90th percentile <= 30%, for prefill and for decode.
        var result = CrossModelValidation.Run(OperatorProfileTable.BuiltIn, Catalog.BuiltIn, CrossModelHoldout.Model);
        Assert.Equal(["a100", "h100"], result.Scores.Select(s => s.Gpu).Distinct().Order().ToArray());
        Assert.Equal(12, result.Scores.Count);
        foreach (var score in result.Scores)
        {
            var context = $"{score.Gpu} without {score.HeldOut}: prefill {score.Prefill}, decode {score.Decode}";
            Assert.True(score.Prefill.Count > 0 && score.Decode.Count > 0, context);
            Assert.True(score.Prefill.MedianPercent <= 15 && score.Prefill.P90Percent <= 30, context);
            Assert.True(score.Decode.MedianPercent <= 15 && score.Decode.P90Percent <= 30, context);
        }
    }
}
