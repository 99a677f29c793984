namespace Strata.Performance.Calibration;

/// <summary>The validation scores of the device model, recorded so that an estimate can print its expected error without re-running the study.</summary>
/// <remarks>
/// Each number is the worst over held-out groups of that group's median (or p90) error, rounded up to 0.1 points.
/// Tests re-run the studies (<see cref="CrossModelValidation"/>, <see cref="EndToEndValidation"/>) and keep these
/// within 1 percentage point of the current results; docs/validation.md has the full tables and commands.
/// </remarks>
public static class ValidatedErrors
{
    /// <summary>Operator sums of a model the GPU's fit never saw (leave one model out), per profiled GPU.</summary>
    public static IReadOnlyDictionary<string, ExpectedError> OperatorsLeaveOneModelOut { get; } = new Dictionary<string, ExpectedError>(StringComparer.Ordinal)
    {
        ["a100"] = new("operator sums of a model left out of the A100 fit (strata calibrate --holdout model)", 4.9, 10.1, 4.8, 10.8),
        ["h100"] = new("operator sums of a model left out of the H100 fit (strata calibrate --holdout model)", 6.3, 18.8, 3.5, 7.2),
    };

    /// <summary>Operator sums on a GPU predicted from the other GPU's parameters (leave one GPU out), keyed by the GPU whose parameters were used.</summary>
    public static IReadOnlyDictionary<string, ExpectedError> OperatorsFromOtherGpu { get; } = new Dictionary<string, ExpectedError>(StringComparer.Ordinal)
    {
        ["a100"] = new("operator sums on H100 predicted from A100 parameters scaled by datasheet peaks (strata calibrate --holdout gpu)", 4.3, 13.1, 10.6, 15.4),
        ["h100"] = new("operator sums on A100 predicted from H100 parameters scaled by datasheet peaks (strata calibrate --holdout gpu)", 2.9, 7.8, 5.5, 9.4),
    };

    /// <summary>End-to-end prefill and decode times of a model whose serving overhead was fitted on another model (Splitwise, leave one model out), per measured device.</summary>
    public static IReadOnlyDictionary<string, ExpectedError> EndToEndLeaveOneModelOut { get; } = new Dictionary<string, ExpectedError>(StringComparer.Ordinal)
    {
        ["a100-80gb"] = new("end-to-end Splitwise times of a model left out of the A100 serving-overhead fit (strata calibrate --holdout model --json, endToEnd)", 7.9, 26.5, 18.0, 26.9),
        ["h100-80gb"] = new("end-to-end Splitwise times of a model left out of the H100 serving-overhead fit (strata calibrate --holdout model --json, endToEnd)", 8.8, 33.3, 17.2, 26.0),
        ["h100-80gb-pcap"] = new("end-to-end Splitwise times of a model left out of the power-capped H100 serving-overhead fit (strata calibrate --holdout model --json, endToEnd)", 14.3, 43.0, 19.7, 28.0),
    };

    /// <summary>A deployment's own Splitwise measurements predicted by the roofline fitted to the rest of them (20% of the configurations held out, seed 42; docs/validation.md section 1).</summary>
    public static ExpectedError CalibratedHeldOutConfigurations { get; } =
        new("held-out Splitwise configurations of the deployment predicted by the roofline fitted to its other measurements (strata calibrate --seed 42)", 3.7, 20.6, 2.3, 7.5);
}
