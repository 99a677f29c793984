namespace Strata.Core.Scenarios;

/// <summary>The designs and policies a scenario compares; every name is one of <see cref="PolicyNames"/>.</summary>
/// <param name="Designs">Cluster designs (<c>policies.designs</c>), from <see cref="PolicyNames.Designs"/>.</param>
/// <param name="Placement">Block placement policies (<c>policies.placement</c>), from <see cref="PolicyNames.Placement"/>.</param>
/// <param name="Routing">Routing policies (<c>policies.routing</c>), from <see cref="PolicyNames.Routing"/>.</param>
/// <param name="Split">Split planners (<c>policies.split</c>), from <see cref="PolicyNames.Split"/>.</param>
public sealed record PolicySelection(
    IReadOnlyList<string> Designs,
    IReadOnlyList<string> Placement,
    IReadOnlyList<string> Routing,
    IReadOnlyList<string> Split)
{
    /// <summary>Nothing selected: each command uses its own defaults.</summary>
    public static PolicySelection Empty { get; } = new([], [], [], []);
}
