using Strata.Core;
using Strata.Simulation.Runs;

namespace Strata.Simulation.Provisioning;

/// <summary>A provisioning search: a design, a workload shape, an SLO rule and a goal.</summary>
public sealed record ProvisioningOptions
{
    /// <summary>The simulation every candidate runs (its design, model, trace and window; pool sizes and rate are searched).</summary>
    public required SimulateOptions Simulation { get; init; }

    /// <summary>What to optimise.</summary>
    public ProvisioningGoal Goal { get; init; } = ProvisioningGoal.MinCost;

    /// <summary>Target rate for <see cref="ProvisioningGoal.MinCost"/> and <see cref="ProvisioningGoal.MinPower"/>.</summary>
    public double? TargetRateRequestsPerSecond { get; init; }

    /// <summary>Budget in USD per hour (<see cref="ProvisioningGoal.MaxRateForCost"/>) or watts (<see cref="ProvisioningGoal.MaxRateForPower"/>).</summary>
    public double? Budget { get; init; }

    /// <summary>Most machines per pool considered.</summary>
    public int MaxMachinesPerPool { get; init; } = 60;

    /// <summary>How close (relative) the rate bisection gets before it stops.</summary>
    public double RateTolerance { get; init; } = 0.02;

    /// <summary>Which SLO a candidate must meet: all nine Splitwise slowdown checks (default) or absolute-SLO attainment of at least 99%.</summary>
    public bool UseSplitwiseSlo { get; init; } = true;

    /// <summary>Degree of parallelism (simulations run concurrently, each single-threaded); default all cores.</summary>
    public int MaxParallelism { get; init; } = Environment.ProcessorCount;

    /// <summary>Checks the options are consistent.</summary>
    /// <exception cref="StrataException">A required value is missing or out of range.</exception>
    public ProvisioningOptions Validate()
    {
        var needsRate = Goal is ProvisioningGoal.MinCost or ProvisioningGoal.MinPower;
        if (needsRate && !(TargetRateRequestsPerSecond is > 0))
        {
            throw new StrataException($"Goal {Goal} needs --rate, a positive target rate in requests per second (got {TargetRateRequestsPerSecond?.ToString() ?? "none"}).");
        }

        if (!needsRate && !(Budget is > 0))
        {
            throw new StrataException($"Goal {Goal} needs --budget, a positive {(Goal == ProvisioningGoal.MaxRateForCost ? "cost in USD per hour" : "power in watts")} (got {Budget?.ToString() ?? "none"}).");
        }

        if (MaxMachinesPerPool < 1 || MaxParallelism < 1 || !(RateTolerance is > 0 and < 1))
        {
            throw new StrataException($"--max-machines is {MaxMachinesPerPool}; expected at least 1.");
        }

        return this;
    }
}
