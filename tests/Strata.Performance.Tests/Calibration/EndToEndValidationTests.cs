using Strata.Core.Catalogs;
using Strata.Performance.Calibration;
using Strata.Performance.Profiles;

namespace Strata.Performance.Tests.Calibration;

public sealed class EndToEndValidationTests
{
    [Fact]
    public void Recorded_expected_errors_match_a_fresh_run_of_the_validation_studies()
    {
        // The errors an estimate prints are constants; they must stay within 1 point of what the studies give now.
        var endToEnd = EndToEndValidation.Run(ProfileTable.BuiltIn, Catalog.BuiltIn);
        foreach (var (device, recorded) in ValidatedErrors.EndToEndLeaveOneModelOut)
        {
            var scores = endToEnd.Scores.Where(s => s.Gpu == device).ToArray();
            Assert.Equal(2, scores.Length);
            Assert.Equal(scores.Max(s => s.Prefill.MedianPercent), recorded.PrefillMedianPercent, 1.0);
            Assert.Equal(scores.Max(s => s.Prefill.P90Percent), recorded.PrefillP90Percent, 1.0);
            Assert.Equal(scores.Max(s => s.Decode.MedianPercent), recorded.DecodeMedianPercent, 1.0);
            Assert.Equal(scores.Max(s => s.Decode.P90Percent), recorded.DecodeP90Percent, 1.0);
        }

        var models = CrossModelValidation.Run(OperatorProfileTable.BuiltIn, Catalog.BuiltIn, CrossModelHoldout.Model);
        foreach (var (gpu, recorded) in ValidatedErrors.OperatorsLeaveOneModelOut)
        {
            var scores = models.Scores.Where(s => s.Gpu == gpu).ToArray();
            Assert.Equal(scores.Max(s => s.Prefill.MedianPercent), recorded.PrefillMedianPercent, 1.0);
            Assert.Equal(scores.Max(s => s.Prefill.P90Percent), recorded.PrefillP90Percent, 1.0);
            Assert.Equal(scores.Max(s => s.Decode.MedianPercent), recorded.DecodeMedianPercent, 1.0);
            Assert.Equal(scores.Max(s => s.Decode.P90Percent), recorded.DecodeP90Percent, 1.0);
        }

        var gpus = CrossModelValidation.Run(OperatorProfileTable.BuiltIn, Catalog.BuiltIn, CrossModelHoldout.Gpu);
        foreach (var (source, recorded) in ValidatedErrors.OperatorsFromOtherGpu)
        {
            var score = Assert.Single(gpus.Scores, s => s.HeldOut == source);
            Assert.Equal(score.Prefill.MedianPercent, recorded.PrefillMedianPercent, 1.0);
            Assert.Equal(score.Prefill.P90Percent, recorded.PrefillP90Percent, 1.0);
            Assert.Equal(score.Decode.MedianPercent, recorded.DecodeMedianPercent, 1.0);
            Assert.Equal(score.Decode.P90Percent, recorded.DecodeP90Percent, 1.0);
        }
    }
}
