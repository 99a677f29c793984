using Strata.Core;

namespace Strata.Planning.Placement;

/// <summary>The placement policies by name.</summary>
public static class PlacementPolicies
{
    /// <summary>Every name <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["petals", "cg-bp", "milp", "petals-cgbp-counts", "petals-cgbp-order"];

    /// <summary>A policy by name; <paramref name="milpTimeLimitSeconds"/> bounds the MILP's solve, <paramref name="milpSessions"/> fixes its session count (null: from the load), <paramref name="milpWorkers"/> its CP-SAT workers.</summary>
    /// <exception cref="StrataException">The name is unknown.</exception>
    public static IPlacementPolicy Create(string name, double milpTimeLimitSeconds = 60, int? milpSessions = null, int milpWorkers = 1) => name switch
    {
        "petals" => new PetalsPlacement(),
        "cg-bp" => new ConservativeGreedyPlacement(),
        "milp" => new MilpPlacement(milpTimeLimitSeconds, milpSessions, workers: milpWorkers),
        "petals-cgbp-counts" => new PetalsPlacement(useConservativeCounts: true),
        "petals-cgbp-order" => new PetalsPlacement(useConservativeOrder: true),
        _ => throw new StrataException($"Unknown placement policy '{name}'; expected one of {string.Join(", ", Names)}."),
    };
}
