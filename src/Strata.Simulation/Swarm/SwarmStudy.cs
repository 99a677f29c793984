using System.Diagnostics;
using Strata.Planning.Placement;
using Strata.Planning.Routing;
using Strata.Planning.Swarm;

namespace Strata.Simulation.Swarm;

/// <summary>Runs every placement x routing pair on the same arrivals.</summary>
public static class SwarmStudy
{
    /// <summary>Plans each placement once (timed), then simulates it with each routing policy.</summary>
    /// <exception cref="Core.StrataException">A name is unknown, or a placement is infeasible.</exception>
    public static IReadOnlyList<SwarmStudyRow> Run(
        SwarmInstance instance,
        IReadOnlyList<string> placements,
        IReadOnlyList<string> routings,
        SwarmSimulationOptions options,
        double milpTimeLimitSeconds = 60,
        int? milpSessions = null,
        int milpWorkers = 1)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(placements);
        ArgumentNullException.ThrowIfNull(routings);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var rows = new List<SwarmStudyRow>();
        foreach (var placementName in placements)
        {
            var policy = PlacementPolicies.Create(placementName, milpTimeLimitSeconds, milpSessions, milpWorkers);
            var (plan, seconds) = Plan(instance, policy, options.RateRequestsPerSecond);
            foreach (var routingName in routings)
            {
                var routing = RoutingPolicies.Create(routingName);
                var result = new SwarmSimulator(instance, plan.Placement, policy, routing, options).Run();
                rows.Add(new SwarmStudyRow(placementName, routingName, plan, seconds, result));
            }
        }

        return rows;
    }

    /// <summary>Runs one placement policy and times it.</summary>
    public static (PlacementResult Plan, double PlanSeconds) Plan(SwarmInstance instance, IPlacementPolicy policy, double rateRequestsPerSecond)
    {
        ArgumentNullException.ThrowIfNull(policy);
        var started = Stopwatch.GetTimestamp();
        var plan = policy.Place(instance, rateRequestsPerSecond);
        return (plan, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }
}
