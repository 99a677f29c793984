using System.Collections.Concurrent;
using System.Diagnostics;
using Strata.Core;
using Strata.Core.Catalogs;
using Strata.Planning.Pools;
using Strata.Simulation.Cluster;
using Strata.Simulation.Runs;
using Strata.Simulation.Workloads;

namespace Strata.Simulation.Provisioning;

/// <summary>Finds the best pool split for a design by simulating candidates (as Vidur-Search and DistServe do).</summary>
/// <remarks>
/// Assumes monotonicity, as those searches do: more machines of a pool never hurt, and a split that meets the SLO at
/// some rate meets it at any lower rate. Minimising cost or power at a target rate: for each prompt-pool size,
/// bisect the smallest token pool that meets the SLO, then take the cheapest. Maximising the rate under a budget: for
/// each prompt-pool size take the largest token pool within the budget and bisect the highest rate it sustains.
/// Candidates run in parallel (each simulation is single-threaded and deterministic, so the result does not depend
/// on the degree of parallelism).
/// </remarks>
public static class ProvisioningSearch
{
    /// <summary>Runs the search.</summary>
    /// <exception cref="StrataException">Bad options, or a design the search cannot vary.</exception>
    public static ProvisioningResult Run(ProvisioningOptions options, Catalog catalog, IProgress<double>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(catalog);
        options.Validate();
        var started = Stopwatch.GetTimestamp();
        var simulation = options.Simulation;
        var baseline = simulation.Design.StartsWith("baseline-", StringComparison.OrdinalIgnoreCase);
        var unit = ClusterDesigns.Create(simulation.Design, catalog, baseline ? 1 : null, baseline ? null : 1, baseline ? null : 1, simulation.Routing);
        var candidates = new ConcurrentBag<ProvisioningCandidate>();
        var promptSizes = baseline ? [0] : Enumerable.Range(1, options.MaxMachinesPerPool).ToArray();
        var done = 0;
        Parallel.ForEach(promptSizes, new ParallelOptions { MaxDegreeOfParallelism = options.MaxParallelism, CancellationToken = cancellationToken }, prompt =>
        {
            var candidate = options.Goal is ProvisioningGoal.MinCost or ProvisioningGoal.MinPower
                ? SmallestSecondPool(options, catalog, baseline, prompt)
                : HighestRate(options, catalog, unit, baseline, prompt);
            if (candidate is not null)
            {
                candidates.Add(candidate);
            }

            progress?.Report((double)Interlocked.Increment(ref done) / promptSizes.Length);
        });

        var ordered = candidates.OrderBy(c => c.PromptMachines).ThenBy(c => c.Machines).ToArray();
        var feasible = ordered.Where(c => c.MeetsSlo);
        var best = options.Goal switch
        {
            ProvisioningGoal.MinCost => feasible.OrderBy(c => c.CostPerHour).ThenBy(c => c.PowerWatts).FirstOrDefault(),
            ProvisioningGoal.MinPower => feasible.OrderBy(c => c.PowerWatts).ThenBy(c => c.CostPerHour).FirstOrDefault(),
            _ => feasible.OrderByDescending(c => c.RateRequestsPerSecond).ThenBy(c => c.CostPerHour).FirstOrDefault(),
        };
        return new ProvisioningResult(unit.Name, options.Goal, best, ordered, ordered.Sum(c => c.Simulations), Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    // Smallest token pool (or baseline pool) meeting the SLO at the target rate, by bisection on 1..max.
    private static ProvisioningCandidate? SmallestSecondPool(ProvisioningOptions options, Catalog catalog, bool baseline, int prompt)
    {
        var rate = options.TargetRateRequestsPerSecond!.Value;
        var requests = Workload(options.Simulation, rate);
        var simulations = 0;
        bool Meets(int second)
        {
            simulations++;
            return MeetsSlo(Simulate(options, catalog, baseline, prompt, second, requests), options);
        }

        int low = 1, high = options.MaxMachinesPerPool;
        if (!Meets(high))
        {
            var design = Design(options.Simulation, catalog, baseline, prompt, high);
            return new ProvisioningCandidate(prompt, baseline ? 0 : high, design.MachineCount, design.PricePerHour, design.PowerWatts, rate, false, simulations);
        }

        while (low < high)
        {
            var middle = (low + high) / 2;
            if (Meets(middle))
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }

        var chosen = Design(options.Simulation, catalog, baseline, prompt, low);
        return new ProvisioningCandidate(prompt, baseline ? 0 : low, chosen.MachineCount, chosen.PricePerHour, chosen.PowerWatts, rate, true, simulations);
    }

    // Largest second pool within the budget, then the highest rate it sustains, by bisection.
    private static ProvisioningCandidate? HighestRate(ProvisioningOptions options, Catalog catalog, ClusterDesign unit, bool baseline, int prompt)
    {
        var budget = options.Budget!.Value;
        var perMachine = unit.Pools.Select(pool => options.Goal == ProvisioningGoal.MaxRateForCost ? pool.Machine.PricePerHour : pool.Machine.PowerWatts).ToArray();
        var spent = baseline ? 0 : prompt * perMachine[0];
        var second = (int)Math.Floor((budget - spent) / perMachine[^1] + 1e-9);
        second = Math.Min(second, options.MaxMachinesPerPool);
        if (second < 1)
        {
            return null;
        }

        var design = Design(options.Simulation, catalog, baseline, prompt, second);
        var simulations = 0;
        bool Meets(double rate)
        {
            simulations++;
            return MeetsSlo(Simulate(options, catalog, baseline, prompt, second, Workload(options.Simulation, rate)), options);
        }

        // Bracket: a rate that fails, starting from a per-machine guess, doubling.
        double low = 0, high = Math.Max(0.5, design.MachineCount * 1.0);
        while (Meets(high))
        {
            low = high;
            high *= 2;
            if (high > 1e6)
            {
                break;
            }
        }

        while (high - low > options.RateTolerance * Math.Max(high, 1e-9))
        {
            var middle = (low + high) / 2;
            if (Meets(middle))
            {
                low = middle;
            }
            else
            {
                high = middle;
            }
        }

        return new ProvisioningCandidate(prompt, baseline ? 0 : second, design.MachineCount, design.PricePerHour, design.PowerWatts, low, low > 0, simulations);
    }

    private static ClusterDesign Design(SimulateOptions simulation, Catalog catalog, bool baseline, int prompt, int second) =>
        baseline
            ? ClusterDesigns.Create(simulation.Design, catalog, machines: second, baselineScheduler: simulation.Routing)
            : ClusterDesigns.Create(simulation.Design, catalog, promptMachines: prompt, tokenMachines: second);

    private static SimulationResult Simulate(ProvisioningOptions options, Catalog catalog, bool baseline, int prompt, int second, Core.Workload.InferenceRequest[] requests)
    {
        var design = Design(options.Simulation, catalog, baseline, prompt, second);
        return SimulationService.CreateSimulator(design, options.Simulation, catalog).Run(requests, ClusterDesigns.CreateScheduler(design), options.Simulation.Slo);
    }

    private static Core.Workload.InferenceRequest[] Workload(SimulateOptions simulation, double rate) =>
        WorkloadBuilder.Build(simulation.Workload with { RateRequestsPerSecond = rate });

    private static bool MeetsSlo(SimulationResult result, ProvisioningOptions options) =>
        result.Completed == result.Requests && (options.UseSplitwiseSlo ? result.MeetsSplitwiseSlo : result.SloAttainment >= 0.99);
}
