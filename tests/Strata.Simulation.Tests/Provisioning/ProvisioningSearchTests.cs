using Strata.Core;
using Strata.Core.Catalogs;
using Strata.Core.Scenarios;
using Strata.Simulation.Provisioning;
using Strata.Simulation.Runs;
using Strata.Simulation.Workloads;

namespace Strata.Simulation.Tests.Provisioning;

public sealed class ProvisioningSearchTests
{
    private static readonly WorkloadOptions Conversation = new() { Trace = "conv", DurationSeconds = 30, Arrivals = ArrivalProcess.Poisson, Seed = 3 };

    [Fact]
    public void Min_cost_split_equals_exhaustive_enumeration_on_a_small_space()
    {
        var simulation = new SimulateOptions { Design = "splitwise-ha", Workload = Conversation };
        var options = new ProvisioningOptions { Simulation = simulation, TargetRateRequestsPerSecond = 12, MaxMachinesPerPool = 5, MaxParallelism = 2 };

        var result = ProvisioningSearch.Run(options, Catalog.BuiltIn);

        // Oracle: every (prompt, token) split in 1..5 x 1..5, simulated, cheapest that meets all nine SLOs.
        var requests = WorkloadBuilder.Build(Conversation with { RateRequestsPerSecond = 12 });
        var exhaustive = (from p in Enumerable.Range(1, 5)
                          from t in Enumerable.Range(1, 5)
                          let r = SimulationService.Run(simulation with { PromptMachines = p, TokenMachines = t }, Catalog.BuiltIn, requests)
                          where r.Completed == r.Requests && r.MeetsSplitwiseSlo
                          orderby r.CostPerHour, r.PowerWatts
                          select (p, t, r.CostPerHour)).FirstOrDefault();
        Assert.NotNull(result.Best);
        Assert.Equal(exhaustive.CostPerHour, result.Best!.CostPerHour, 9);
    }

    [Fact]
    public void Max_rate_for_a_budget_never_exceeds_the_budget_and_meets_the_slo_at_the_rate_found()
    {
        var simulation = new SimulateOptions { Design = "baseline-h100", Workload = Conversation };
        var budget = 4 * 38.0 + 1; // four DGX-H100
        var result = ProvisioningSearch.Run(new ProvisioningOptions { Simulation = simulation, Goal = ProvisioningGoal.MaxRateForCost, Budget = budget, MaxMachinesPerPool = 10, MaxParallelism = 1 }, Catalog.BuiltIn);

        var best = Assert.IsType<ProvisioningCandidate>(result.Best);
        Assert.True(best.CostPerHour <= budget);
        Assert.Equal(4, best.Machines);
        var check = SimulationService.Run(simulation with { Machines = 4, Workload = Conversation with { RateRequestsPerSecond = best.RateRequestsPerSecond } }, Catalog.BuiltIn);
        Assert.True(check.MeetsSplitwiseSlo);
        var beyond = SimulationService.Run(simulation with { Machines = 4, Workload = Conversation with { RateRequestsPerSecond = best.RateRequestsPerSecond * 1.1 } }, Catalog.BuiltIn);
        Assert.False(beyond.MeetsSplitwiseSlo && beyond.Completed == beyond.Requests);
    }

    [Fact]
    public void A_min_cost_search_without_a_rate_is_a_clear_error()
    {
        var error = Assert.Throws<StrataException>(() => ProvisioningSearch.Run(new ProvisioningOptions { Simulation = new SimulateOptions { Workload = Conversation } }, Catalog.BuiltIn));
        Assert.Contains("needs --rate", error.Message);
    }
}
