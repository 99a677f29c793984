using Strata.Performance.Profiles;
using Strata.Performance.Roofline;

namespace Strata.Performance.Calibration;

/// <summary>One deployment's calibration fitted on training configurations and scored on held-out ones.</summary>
/// <param name="Key">The deployment measured.</param>
/// <param name="Calibration">Factors fitted on the training rows.</param>
/// <param name="TrainRmsLogError">Fit quality on the training rows.</param>
/// <param name="TrainConfigurations">Configurations (prompt, batch, output) fitted.</param>
/// <param name="TestConfigurations">Configurations held out.</param>
/// <param name="PromptTime">Held-out prefill time errors.</param>
/// <param name="TokenTime">Held-out decode step time errors.</param>
public sealed record DeploymentValidation(
    ProfileKey Key,
    RooflineCalibration Calibration,
    double TrainRmsLogError,
    int TrainConfigurations,
    int TestConfigurations,
    ErrorSummary PromptTime,
    ErrorSummary TokenTime);
