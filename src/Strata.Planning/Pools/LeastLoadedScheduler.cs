using Strata.Core.Workload;

namespace Strata.Planning.Pools;

/// <summary>Baseline routing: the machine with the least KV memory in use (ties: fewest pending prompt tokens); both phases on it.</summary>
public sealed class LeastLoadedScheduler : IClusterScheduler
{
    /// <inheritdoc />
    public string Name => "least-loaded";

    /// <inheritdoc />
    public RouteDecision Route(in InferenceRequest request, IClusterView cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var best = 0;
        for (var m = 1; m < cluster.MachineCount; m++)
        {
            var load = cluster.KvUtilization(m);
            var bestLoad = cluster.KvUtilization(best);
            if (load < bestLoad || (load == bestLoad && cluster.PendingPromptTokens(m) < cluster.PendingPromptTokens(best)))
            {
                best = m;
            }
        }

        return new RouteDecision(best, best);
    }
}
