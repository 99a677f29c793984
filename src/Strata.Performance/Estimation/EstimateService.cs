using Strata.Core;
using Strata.Core.Catalogs;
using Strata.Core.Hardware;
using Strata.Performance.Calibration;
using Strata.Performance.Memory;
using Strata.Performance.Profiles;

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
    public static (IPerformanceModel Model, string Source) PerformanceModel(Deployment deployment, PerformanceProfile profile, string? profileCsv)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var table = profileCsv is null ? ProfileTable.BuiltIn : ProfileTable.Load(profileCsv);
        return profile switch
        {
            PerformanceProfile.Measured => (new MeasuredProfileModel(deployment, table), $"interpolated from measured rows of {ProfileKey.Of(deployment)} in {table.Origin}"),
            _ => CalibratedRoofline.For(deployment, table),
        };
    }

    /// <summary>Estimates the options' requests.</summary>
    public static EstimateResult Run(EstimateOptions options, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var deployment = ResolveDeployment(options, catalog);
        var (performance, source) = PerformanceModel(deployment, options.Profile, options.ProfileCsv);
        var memory = new MemoryModel(deployment, options.MemoryUtilization);
        var estimate = RequestEstimator.Estimate(performance, memory, options.PromptTokens, options.OutputTokens, options.Batch);
        return new EstimateResult(deployment, options.Profile, source, options, estimate);
    }
}
