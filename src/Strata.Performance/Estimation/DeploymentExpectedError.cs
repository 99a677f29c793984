using Strata.Performance.Calibration;
using Strata.Performance.Operators;

namespace Strata.Performance.Estimation;

/// <summary>The validation scores that apply to a prediction: for the device model its operator part and its end-to-end transfer, for a calibrated roofline its held-out configurations.</summary>
/// <param name="Operators">Operator sums of an unseen model on the GPU (or on an unprofiled GPU, of the cross-GPU transfer); null for a roofline fitted to the deployment's own measurements.</param>
/// <param name="EndToEnd">End-to-end times of a model the serving overhead was not fitted to, or of configurations the calibrated roofline was not fitted to.</param>
/// <param name="Note">What the scores do not cover for this deployment, or null.</param>
public sealed record DeploymentExpectedError(ExpectedError? Operators, ExpectedError EndToEnd, string? Note)
{
    /// <summary>The scores that apply to a roofline fitted to the deployment's own Splitwise measurements.</summary>
    public static DeploymentExpectedError Calibrated { get; } = new(null, ValidatedErrors.CalibratedHeldOutConfigurations, null);

    /// <summary>One line: the end-to-end error (and the operator error where there is one), and what is not validated.</summary>
    public string Describe()
    {
        var text = "end to end " + Describe(EndToEnd) + (Operators is { } o ? "; operators " + Describe(o) : "");
        return Note is { } note ? $"{text}; not validated: {note}" : text;
    }

    /// <summary>One line of one score: prefill and decode median and p90, and what was held out.</summary>
    public static string Describe(ExpectedError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"prefill median {error.PrefillMedianPercent:F1}% / p90 {error.PrefillP90Percent:F1}%, decode median {error.DecodeMedianPercent:F1}% / p90 {error.DecodeP90Percent:F1}% ({error.Basis})");
    }

    /// <summary>The scores that apply to <paramref name="deployment"/> under the device model.</summary>
    public static DeploymentExpectedError For(Deployment deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var (gpu, measured) = ProfiledDevices.For(deployment.Device);
        var operators = measured ? ValidatedErrors.OperatorsLeaveOneModelOut[gpu] : ValidatedErrors.OperatorsFromOtherGpu[gpu];
        var (_, fittedOn, _, _) = DeviceModels.Overhead(deployment.Device);
        var endToEnd = ValidatedErrors.EndToEndLeaveOneModelOut[fittedOn];
        var notes = new List<string>();
        if (deployment.Device.Kind != Core.Hardware.DeviceKind.Gpu)
        {
            var kind = deployment.Device.Kind switch
            {
                Core.Hardware.DeviceKind.Mig => "a MIG slice",
                Core.Hardware.DeviceKind.Cpu => "a CPU",
                Core.Hardware.DeviceKind.Phone => "a phone system-on-chip",
                _ => "an edge device",
            };
            notes.Add($"{deployment.Device.Id} is {kind}, not a whole GPU: no operator or end-to-end measurement of this kind of device exists, and {gpu}'s fitted efficiencies and serving overhead applied to its datasheet peaks are an extrapolation that no validation scores");
        }
        else if (!measured)
        {
            notes.Add($"{deployment.Device.Id} has no operator or end-to-end measurements: its parameters are {gpu}'s relative to its datasheet peaks, and its serving overhead is {fittedOn}'s; the cross-GPU score is between A100 and H100 only");
        }

        if (deployment.Precision is not (Core.Models.Precision.Fp16 or Core.Models.Precision.Bf16))
        {
            notes.Add($"{Core.Models.PrecisionInfo.Name(deployment.Precision)} weights were never measured: weight bytes scale, kernels are assumed to run as fp16 ones");
        }

        return new DeploymentExpectedError(operators, endToEnd, notes.Count == 0 ? null : string.Join("; ", notes) + ".");
    }
}
