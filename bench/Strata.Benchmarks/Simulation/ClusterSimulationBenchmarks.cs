using BenchmarkDotNet.Attributes;
using Strata.Core.Catalogs;
using Strata.Core.Workload;
using Strata.Planning.Pools;
using Strata.Simulation.Cluster;
using Strata.Simulation.Runs;
using Strata.Simulation.Workloads;

namespace Strata.Benchmarks.Simulation;

/// <summary>The issue-3 speed targets against SplitwiseSim's timings on a 2-core machine: one whole simulation per invocation, single-threaded.</summary>
[MemoryDiagnoser]
public class ClusterSimulationBenchmarks
{
    private ClusterSimulator _simulator = null!;
    private ClusterDesign _design = null!;
    private InferenceRequest[] _requests = [];

    /// <summary>The case: SplitwiseSim took 67.5 s, 120.2 s and 215 s on them.</summary>
    [Params("conv80-baseline-h100x40", "conv80-splitwise-ha-25+26", "code-overloaded-1xh100")]
    public string Case { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        var (design, workload) = Case switch
        {
            "conv80-baseline-h100x40" => (new SimulateOptions { Design = "baseline-h100", Machines = 40, Workload = null! }, new WorkloadOptions { Trace = "conv", RateRequestsPerSecond = 80, DurationSeconds = 600 }),
            "conv80-splitwise-ha-25+26" => (new SimulateOptions { Design = "splitwise-ha", PromptMachines = 25, TokenMachines = 26, Workload = null! }, new WorkloadOptions { Trace = "conv", RateRequestsPerSecond = 80, DurationSeconds = 600 }),
            _ => (new SimulateOptions { Design = "baseline-h100", Machines = 1, Workload = null! }, new WorkloadOptions { Trace = "code", Requests = 8395 }),
        };
        var options = design with { Workload = workload };
        _requests = WorkloadBuilder.Build(workload);
        _design = ClusterDesigns.Create(options.Design, Catalog.BuiltIn, options.Machines, options.PromptMachines, options.TokenMachines);
        _simulator = SimulationService.CreateSimulator(_design, options, Catalog.BuiltIn);
    }

    [Benchmark]
    public long Simulate() => _simulator.Run(_requests, ClusterDesigns.CreateScheduler(_design), SimulateOptions.MlperfSlo).Completed;
}
