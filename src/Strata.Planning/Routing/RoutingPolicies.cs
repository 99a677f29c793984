using Strata.Core;

namespace Strata.Planning.Routing;

/// <summary>The routing policies by name.</summary>
public static class RoutingPolicies
{
    /// <summary>Every name <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Names { get; } = ["petals", "ws-rr", "shortest-path"];

    /// <summary>A fresh policy (policies cache per placement, so one per simulation).</summary>
    /// <exception cref="StrataException">The name is unknown.</exception>
    public static IRoutingPolicy Create(string name) => name switch
    {
        "petals" => new PetalsRouting(),
        "ws-rr" => new WaitingShortestPathRouting(),
        "shortest-path" => new ShortestPathRouting(),
        _ => throw new StrataException($"Unknown routing policy '{name}'; expected one of {string.Join(", ", Names)}."),
    };
}
