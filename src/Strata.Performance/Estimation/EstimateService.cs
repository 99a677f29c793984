using Strata.Core;
using Strata.Core.Catalogs;
using Strata.Core.Hardware;
using Strata.Performance.Memory;
using Strata.Performance.Operators;

namespace Strata.Performance.Estimation;

/// <summary>Resolves an <see cref="EstimateOptions"/> against a catalog and estimates it.</summary>
public static class EstimateService
{
    /// <summary>Builds the deployment the options describe.</summary>
    /// <exception cref="StrataException">Unknown model or device, or a tensor-parallel degree the machine cannot give.</exception>
    public static Deployment ResolveDeployment(EstimateOptions options, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(catalog);
        var model = catalog.Model(options.Model);
        var machine = catalog.Machine(options.Gpu);
        if (options.TensorParallel is { } tp && tp != machine.DeviceCount)
        {
            if (machine.DeviceCount > 1 && tp > machine.DeviceCount)
            {
                throw new StrataException($"--tp is {tp} but machine '{machine.Id}' has only {machine.DeviceCount} devices; expected at most {machine.DeviceCount}.");
            }

            machine = MachineSpec.Of(machine.Device, tp) with { Interconnect = machine.Interconnect ?? machine.Device.Interconnect };
        }

        return new Deployment(model, machine, options.Precision ?? model.NativePrecision);
    }

    /// <summary>The performance model the options ask for, and where its numbers come from.</summary>
    /// <remarks>
    /// The default (<see cref="PerformanceProfile.Roofline"/>) is the roofline fitted to the deployment's own fp16
    /// measurements when the profile has some, else the per-device model (<see cref="DeviceModel"/>) fitted on the
    /// operator profiles and the Splitwise serving overhead: both are scored by <c>strata calibrate</c>, and no
    /// deployment gets unscored default factors.
    /// </remarks>
    public static (IPerformanceModel Model, string Source) PerformanceModel(Deployment deployment, PerformanceProfile profile, string? profileCsv)
    {
        var (model, source, _) = PerformanceModelWithError(deployment, profile, profileCsv);
        return (model, source);
    }

    /// <summary>The performance model the options ask for, where its numbers come from, and the error its kind of prediction scored in validation (null only for the unscored measured interpolation).</summary>
    /// <remarks>The same choice as <see cref="ScoredModel.For"/>, which the simulator and the planners use.</remarks>
    public static (IPerformanceModel Model, string Source, DeploymentExpectedError? ExpectedError) PerformanceModelWithError(Deployment deployment, PerformanceProfile profile, string? profileCsv)
    {
        var scored = ScoredModel.For(deployment, profile, profileCsv);
        return (scored.Model, scored.Source, scored.ExpectedError);
    }

    /// <summary>Estimates the options' requests.</summary>
    public static EstimateResult Run(EstimateOptions options, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var deployment = ResolveDeployment(options, catalog);
        var scored = ScoredModel.For(deployment, options.Profile, options.ProfileCsv);
        var memory = new MemoryModel(deployment, options.MemoryUtilization);
        var estimate = RequestEstimator.Estimate(scored.Model, memory, options.PromptTokens, options.OutputTokens, options.Batch);
        return new EstimateResult(deployment, options.Profile, scored.Source, options, estimate) { ModelName = scored.Model.Name, PricedBy = scored.Kind, ExpectedError = scored.ExpectedError };
    }
}
