namespace Strata.Planning.Split;

/// <summary>Baseline: every layer on the client (on-device inference, no server load).</summary>
/// <remarks>O(L). Infeasible when the layers exceed the client memory budget or the client is too slow for the SLA.</remarks>
public sealed class AllClientSplitPlanner : ISplitPlanner
{
    /// <inheritdoc />
    public string Name => "client";

    /// <inheritdoc />
    public SplitPlan Plan(SplitInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        return instance.EvaluateOwned(new SplitSide[instance.LayerCount]);
    }
}
