namespace Strata.Planning.Split;

/// <summary>Decides which layers of a request run on the client and which on the server.</summary>
/// <remarks>
/// Implementations are stateless and thread-safe. When no assignment meets the SLA within the client memory budget,
/// a planner returns an infeasible plan (<see cref="SplitPlan.Feasible"/> false) with the fastest assignment it
/// considered; it never throws for an infeasible SLA.
/// </remarks>
public interface ISplitPlanner
{
    /// <summary>Short name for the command line and reports (<c>dp</c>, <c>greedy</c>, ...).</summary>
    string Name { get; }

    /// <summary>Plans <paramref name="instance"/>: least server load within the SLA and memory budget, by this planner's method.</summary>
    SplitPlan Plan(SplitInstance instance);
}
