using Strata.Core.Catalogs;
using Strata.Core.Workload;
using Strata.Performance;
using Strata.Performance.Calibration;
using Strata.Performance.Estimation;
using Strata.Planning.Pools;
using Strata.Simulation.Cluster;
using Strata.Simulation.Workloads;

namespace Strata.Simulation.Runs;

/// <summary>Resolves <see cref="SimulateOptions"/> against a catalog and runs the simulation.</summary>
public static class SimulationService
{
    /// <summary>Builds the design, the workload and the simulator, and runs it.</summary>
    public static SimulationResult Run(SimulateOptions options, Catalog catalog, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(catalog);
        options.Validate();
        var requests = WorkloadBuilder.Build(options.Workload);
        return Run(options, catalog, requests, progress, cancellationToken);
    }

    /// <summary>Runs the simulation over given requests (so a search can reuse one workload).</summary>
    public static SimulationResult Run(SimulateOptions options, Catalog catalog, IReadOnlyList<InferenceRequest> requests, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(catalog);
        var design = ClusterDesigns.Create(options.Design, catalog, options.Machines, options.PromptMachines, options.TokenMachines, options.Routing);
        var simulator = CreateSimulator(design, options, catalog);
        return simulator.Run(requests, ClusterDesigns.CreateScheduler(design), options.Slo, progress, cancellationToken);
    }

    /// <summary>A simulator of <paramref name="design"/> with the options' model and performance profile.</summary>
    public static ClusterSimulator CreateSimulator(ClusterDesign design, SimulateOptions options, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(catalog);
        var model = catalog.Model(options.Model);
        var reference = new Deployment(model, catalog.Machine("dgx-a100"), model.NativePrecision);
        return new ClusterSimulator(
            design,
            model,
            deployment => EstimateService.PerformanceModel(deployment, options.Profile, null).Model,
            CalibratedRoofline.For(reference).Model,
            options.Cluster);
    }
}
