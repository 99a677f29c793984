namespace Strata.Performance.Estimation;

/// <summary>An estimate and what it was made with.</summary>
/// <param name="Deployment">The model, machine and precision.</param>
/// <param name="Profile">The performance model used.</param>
/// <param name="CalibrationSource">Where the performance model's numbers come from.</param>
/// <param name="Options">The request.</param>
/// <param name="Estimate">The prediction.</param>
public sealed record EstimateResult(
    Deployment Deployment,
    PerformanceProfile Profile,
    string CalibrationSource,
    EstimateOptions Options,
    RequestEstimate Estimate)
{
    /// <summary>Name of the performance model used (<c>roofline</c>, <c>device</c>, <c>measured</c>).</summary>
    public string ModelName { get; init; } = "roofline";

    /// <summary>Which kind of scored model priced it (<see cref="ScoredModel.CalibratedKind"/>, <see cref="ScoredModel.DeviceKind"/>, <see cref="ScoredModel.MeasuredKind"/>).</summary>
    public string PricedBy { get; init; } = ScoredModel.DeviceKind;

    /// <summary>The error the prediction's kind of model scored in validation (held-out configurations for a calibrated roofline, cross-model transfer for the device model); null only for the unscored measured interpolation.</summary>
    public DeploymentExpectedError? ExpectedError { get; init; }
}
