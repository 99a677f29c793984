namespace Strata.Core.Scenarios;

/// <summary>The policy and design names a scenario may select: the one list the loader checks against.</summary>
/// <remarks>Add a name here when its implementation lands; the command that runs it maps the name to the type.</remarks>
public static class PolicyNames
{
    /// <summary>Cluster designs (Splitwise): the two baselines and the phase-split designs.</summary>
    public static IReadOnlyList<string> Designs { get; } =
        ["baseline-a100", "baseline-h100", "splitwise-aa", "splitwise-hh", "splitwise-ha", "splitwise-hhcap"];

    /// <summary>Block placement policies for swarms.</summary>
    public static IReadOnlyList<string> Placement { get; } =
        ["petals", "cg-bp", "milp", "petals-cgbp-counts", "petals-cgbp-order"];

    /// <summary>Routing policies for swarms.</summary>
    public static IReadOnlyList<string> Routing { get; } = ["petals", "ws-rr", "shortest-path"];

    /// <summary>Client/server split planners (SplitLLM) and their baselines.</summary>
    public static IReadOnlyList<string> Split { get; } = ["dp", "greedy", "prefix", "server", "client", "exhaustive"];
}
