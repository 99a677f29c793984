using Strata.Cli.Reports;
using Strata.Core.Catalogs;
using Strata.Simulation.Cluster;
using Strata.Simulation.Runs;
using Strata.Simulation.Workloads;

namespace Strata.Cli.Tests.Reports;

/// <summary>Small real simulations, run once and shared by the report tests.</summary>
public sealed class ReportFixture
{
    public ReportFixture()
    {
        var baseline = Simulate("baseline-h100", 5, machines: 2);
        var splitwise = Simulate("splitwise-hh", 5, promptMachines: 1, tokenMachines: 1);
        Runs = [new ReportRun("baseline-h100 x2", baseline), new ReportRun("splitwise-hh 1P+1T", splitwise)];
        Sweep =
        [
            new RateSweepPoint("baseline-h100", 5, baseline),
            new RateSweepPoint("baseline-h100", 2, Simulate("baseline-h100", 2, machines: 2)),
            new RateSweepPoint("splitwise-hh", 5, splitwise),
            new RateSweepPoint("splitwise-hh", 2, Simulate("splitwise-hh", 2, promptMachines: 1, tokenMachines: 1)),
        ];
    }

    internal IReadOnlyList<ReportRun> Runs { get; }

    internal IReadOnlyList<RateSweepPoint> Sweep { get; }

    private static SimulationResult Simulate(string design, double rate, int? machines = null, int? promptMachines = null, int? tokenMachines = null) =>
        SimulationService.Run(
            new SimulateOptions
            {
                Design = design,
                Machines = machines,
                PromptMachines = promptMachines,
                TokenMachines = tokenMachines,
                Workload = new WorkloadOptions { Trace = "conv", RateRequestsPerSecond = rate, DurationSeconds = 30 },
                Cluster = new ClusterSimulationOptions { KeepRequestOutcomes = true },
            },
            Catalog.BuiltIn);
}
