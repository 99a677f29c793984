using Strata.Core.Workload;

namespace Strata.Planning.Pools;

/// <summary>Baseline routing: join the shortest queue, queue length in pending tokens (prompt + decode); both phases on one machine.</summary>
public sealed class ShortestQueueScheduler : IClusterScheduler
{
    /// <inheritdoc />
    public string Name => "shortest-queue";

    /// <inheritdoc />
    public RouteDecision Route(in InferenceRequest request, IClusterView cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var best = 0;
        var bestTokens = long.MaxValue;
        for (var m = 0; m < cluster.MachineCount; m++)
        {
            var tokens = cluster.PendingPromptTokens(m) + cluster.PendingDecodeTokens(m);
            if (tokens < bestTokens)
            {
                (best, bestTokens) = (m, tokens);
            }
        }

        return new RouteDecision(best, best);
    }
}
