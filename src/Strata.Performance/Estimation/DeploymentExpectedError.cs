using Strata.Performance.Calibration;
using Strata.Performance.Operators;

namespace Strata.Performance.Estimation;

/// <summary>The validation scores that apply to a device-model prediction: its operator part and its end-to-end transfer.</summary>
/// <param name="Operators">Operator sums of an unseen model on the GPU (or on an unprofiled GPU, of the cross-GPU transfer).</param>
/// <param name="EndToEnd">End-to-end times of a model the serving overhead was not fitted to.</param>
/// <param name="Note">What the scores do not cover for this deployment, or null.</param>
public sealed record DeploymentExpectedError(ExpectedError Operators, ExpectedError EndToEnd, string? Note)
{
    /// <summary>The scores that apply to <paramref name="deployment"/> under the device model.</summary>
    public static DeploymentExpectedError For(Deployment deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var (gpu, measured) = ProfiledDevices.For(deployment.Device);
        var operators = measured ? ValidatedErrors.OperatorsLeaveOneModelOut[gpu] : ValidatedErrors.OperatorsFromOtherGpu[gpu];
        var (_, fittedOn, _, _) = DeviceModels.Overhead(deployment.Device);
        var endToEnd = ValidatedErrors.EndToEndLeaveOneModelOut[fittedOn];
        var notes = new List<string>();
        if (!measured)
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
