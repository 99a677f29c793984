namespace Strata.Planning.Split;

/// <summary>Baseline: every layer on the server (classic cloud inference).</summary>
/// <remarks>O(L). Infeasible when even this misses the SLA (upload, server time and the final download).</remarks>
public sealed class AllServerSplitPlanner : ISplitPlanner
{
    /// <inheritdoc />
    public string Name => "server";

    /// <inheritdoc />
    public SplitPlan Plan(SplitInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var assignment = new SplitSide[instance.LayerCount];
        Array.Fill(assignment, SplitSide.Server);
        return instance.EvaluateOwned(assignment);
    }
}
