using Strata.Core.Catalogs;
using Strata.Core.Workload;
using Strata.Performance;
using Strata.Performance.Estimation;
using Strata.Performance.Profiles;
using Strata.Performance.Roofline;
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
        var design = options.CustomDesign ?? ClusterDesigns.Create(options.Design, catalog, options.Machines, options.PromptMachines, options.TokenMachines, options.Routing);
        var simulator = CreateSimulator(design, options, catalog);
        return simulator.Run(requests, ClusterDesigns.CreateScheduler(design), options.Slo, progress, cancellationToken);
    }

    /// <summary>What slowdowns are measured against: the request alone on a DGX-A100 (Splitwise Table VI), or on as many A100-80GBs as divide the model's heads.</summary>
    public static Deployment ReferenceDeployment(Core.Models.ModelArchitecture model, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(catalog);
        var dgx = catalog.Machine("dgx-a100");
        var devices = new[] { 8, 4, 2, 1 }.First(count => model.AttentionHeadCount % count == 0);
        var machine = devices == dgx.DeviceCount ? dgx : Core.Hardware.MachineSpec.Of(dgx.Device, devices) with { Interconnect = dgx.Interconnect };
        return new Deployment(model, machine, model.NativePrecision);
    }

    /// <summary>The scored models that price the machines of the options' design and the reference deployment (the same choice <see cref="CreateSimulator"/> makes, for tables and JSON).</summary>
    /// <returns>One entry per distinct deployment: the reference (always <see cref="PerformanceProfile.Roofline"/>'s choice) last.</returns>
    public static IReadOnlyList<ScoredModel> Pricing(SimulateOptions options, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(catalog);
        var design = options.CustomDesign ?? ClusterDesigns.Create(options.Design, catalog, options.Machines, options.PromptMachines, options.TokenMachines, options.Routing);
        var model = options.Architecture ?? catalog.Model(options.Model);
        var priced = design.Pools.Select(pool => pool.Machine).DistinctBy(machine => machine.Id)
            .Select(machine => MachineModel(new Deployment(model, machine, model.NativePrecision), options)).ToList();
        var reference = ReferenceDeployment(model, catalog);
        if (options.Profile != PerformanceProfile.Roofline || options.SplitwiseSimDatabase || !priced.Any(p => p.Deployment.Machine.Id == reference.Machine.Id && p.Deployment.TensorParallel == reference.TensorParallel))
        {
            priced.Add(ScoredModel.For(reference));
        }

        return priced;
    }

    /// <summary>What prices a machine of the design: SplitwiseSim's database lookup under <c>--perf splitwisesim-db</c>, else <see cref="ScoredModel.For"/>'s choice for the profile.</summary>
    /// <remarks>The database model's block split (unused by the simulator) takes the default roofline's proportions: cheap, and no fit is run for a model that is not used.</remarks>
    private static ScoredModel MachineModel(Deployment deployment, SimulateOptions options)
    {
        if (!options.SplitwiseSimDatabase)
        {
            return ScoredModel.For(deployment, options.Profile);
        }

        var table = ProfileTable.BuiltIn;
        var database = new SplitwiseSimDatabaseModel(deployment, table);
        return new ScoredModel(database, new ScaledBlockCosts(database, new RooflineBlockCosts(deployment, RooflineCalibration.Default)), database.Name,
            $"SplitwiseSim's database lookup: median prompt and token times of the measured rows of {ProfileKey.Of(deployment)} in {table.Origin} per prompt x batch, interpolated linearly", null);
    }

    /// <summary>A simulator of <paramref name="design"/> with the options' model and performance profile, every machine priced by <see cref="ScoredModel.For"/>.</summary>
    public static ClusterSimulator CreateSimulator(ClusterDesign design, SimulateOptions options, Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(catalog);
        var model = options.Architecture ?? catalog.Model(options.Model);
        var reference = ReferenceDeployment(model, catalog);
        return new ClusterSimulator(
            design,
            model,
            deployment => MachineModel(deployment, options).Model,
            ScoredModel.For(reference).Model,
            options.Cluster);
    }
}
