namespace Strata.Planning.Split;

/// <summary>Baseline: the first k layers on the client and the rest on the server, for the best k in 0..L.</summary>
/// <remarks>
/// O(L^2) (L + 1 candidates evaluated in O(L) each). The best feasible candidate by least server load, ties by least
/// latency; when none is feasible, the fastest that fits the memory budget (k = 0 always fits), marked infeasible.
/// </remarks>
public sealed class BestPrefixSplitPlanner : ISplitPlanner
{
    /// <inheritdoc />
    public string Name => "prefix";

    /// <inheritdoc />
    public SplitPlan Plan(SplitInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        SplitPlan? best = null;
        for (var clientLayers = 0; clientLayers <= instance.LayerCount; clientLayers++)
        {
            var assignment = new SplitSide[instance.LayerCount];
            assignment.AsSpan(clientLayers).Fill(SplitSide.Server);
            var candidate = instance.EvaluateOwned(assignment);
            if (SplitPreference.IsBetter(candidate, best))
            {
                best = candidate;
            }
        }

        return best!;
    }
}
