using Strata.Performance.Calibration;
using Strata.Performance.Operators;
using Strata.Performance.Profiles;
using Strata.Performance.Roofline;

namespace Strata.Performance.Estimation;

/// <summary>The performance model that prices a deployment for every command (estimate, simulate, provision, split, swarm), its per-block costs, where its numbers come from, and the error validation found for that kind of prediction.</summary>
/// <remarks>
/// <para>One rule, so that the simulator and the planners price with the same model and the validation scores it:</para>
/// <list type="bullet">
/// <item>the deployment has fp16/bf16 Splitwise measurements of its own: the roofline fitted to them
/// (<see cref="CalibratedKind"/>, scored on held-out configurations, docs/validation.md section 1);</item>
/// <item>anything else: the per-device model (<see cref="DeviceKind"/>, scored leave-one-model-out on operator profiles
/// and end to end on Splitwise, section 6);</item>
/// <item>only when asked for (<see cref="PerformanceProfile.Measured"/>): interpolation of the deployment's own
/// measurements (<see cref="MeasuredKind"/>), which no hold-out scores.</item>
/// </list>
/// <para>Per-block costs: the device model splits a step into blocks and head itself (<see cref="DeviceModel"/>); the
/// other two are <see cref="ScaledBlockCosts"/> over their own whole-step time, so <c>L</c> blocks plus the head always
/// take what the model predicts for the step.</para>
/// </remarks>
/// <param name="Model">The whole-step model (what the simulator and <c>estimate</c> use).</param>
/// <param name="Blocks">Its per-block costs (what the split and swarm planners use).</param>
/// <param name="Kind"><see cref="CalibratedKind"/>, <see cref="DeviceKind"/> or <see cref="MeasuredKind"/>.</param>
/// <param name="Source">A sentence naming every fitted term and the data it came from.</param>
/// <param name="ExpectedError">The validated error of this kind of prediction; null for <see cref="MeasuredKind"/> (not scored).</param>
public sealed record ScoredModel(IPerformanceModel Model, IBlockCostModel Blocks, string Kind, string Source, DeploymentExpectedError? ExpectedError)
{
    /// <summary>The roofline fitted to the deployment's own Splitwise measurements.</summary>
    public const string CalibratedKind = "calibrated-roofline";

    /// <summary>The per-device model fitted on operator profiles of other models and Splitwise end-to-end rows.</summary>
    public const string DeviceKind = "device-model";

    /// <summary>Interpolation of the deployment's own measurements.</summary>
    public const string MeasuredKind = "measured-profile";

    /// <summary>The model that prices <paramref name="deployment"/> under <paramref name="profile"/>, with <paramref name="profileCsv"/>'s measurements instead of the built-in ones when given.</summary>
    /// <exception cref="Core.StrataException">The CSV cannot be read, or <see cref="PerformanceProfile.Measured"/> was asked for a deployment that was never measured.</exception>
    public static ScoredModel For(Deployment deployment, PerformanceProfile profile = PerformanceProfile.Roofline, string? profileCsv = null)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var table = profileCsv is null ? ProfileTable.BuiltIn : ProfileTable.Load(profileCsv);
        if (profile == PerformanceProfile.Measured)
        {
            var measured = new MeasuredProfileModel(deployment, table);
            return new ScoredModel(measured, new ScaledBlockCosts(measured, DeviceModels.For(deployment).Model), MeasuredKind,
                $"interpolated from measured rows of {ProfileKey.Of(deployment)} in {table.Origin}", null);
        }

        if (CalibratedRoofline.HasMeasurements(deployment, table))
        {
            var (roofline, fitted) = CalibratedRoofline.For(deployment, table);
            return new ScoredModel(roofline, new ScaledBlockCosts(roofline, new RooflineBlockCosts(deployment, roofline.Calibration)), CalibratedKind, fitted,
                DeploymentExpectedError.Calibrated);
        }

        var (device, source) = DeviceModels.For(deployment);
        return new ScoredModel(device, device, DeviceKind, source, DeploymentExpectedError.For(deployment));
    }

    /// <summary>One line for tables: the kind of model and its expected error (or that it is not scored).</summary>
    public string Describe() =>
        $"{Kind} ({Deployment.Model.Id} on {Deployment.TensorParallel} x {Deployment.Device.Id}): expected error {ExpectedError?.Describe() ?? "not scored (interpolation of this deployment's own measurements)"}";

    /// <summary>The deployment priced.</summary>
    public Deployment Deployment => Model.Deployment;
}
