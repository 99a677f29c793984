using Strata.Core;

namespace Strata.Planning.Split;

/// <summary>The split planners by name, for the command line and comparison tables.</summary>
public static class SplitPlanners
{
    /// <summary>Every planner, the exact one first: <c>dp</c>, <c>greedy</c>, <c>prefix</c>, <c>server</c>, <c>client</c>, <c>exhaustive</c>.</summary>
    public static IReadOnlyList<ISplitPlanner> All { get; } =
    [
        new ParetoDpSplitPlanner(),
        new GreedySplitPlanner(),
        new BestPrefixSplitPlanner(),
        new AllServerSplitPlanner(),
        new AllClientSplitPlanner(),
        new ExhaustiveSplitPlanner(),
    ];

    /// <summary>The names of <see cref="All"/>, in order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. All.Select(planner => planner.Name)];

    /// <summary>The planner called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="StrataException">No planner has that name; the message suggests the closest.</exception>
    public static ISplitPlanner ByName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var planner in All)
        {
            if (string.Equals(planner.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return planner;
            }
        }

        throw new StrataException($"Unknown split algorithm '{name}'{SplitNameHint.For(name, [.. Names])}");
    }
}
