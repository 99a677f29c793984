using Strata.Core;
using Strata.Core.Workload;

namespace Strata.Planning.Pools;

/// <summary>SplitwiseSim's baseline token-JSQ: both phases on the machine with the fewest queued prompt tokens plus requests in flight (lowest index on ties).</summary>
/// <remarks>Score of machine m = PendingPromptTokens(m) + RequestsInFlight(m): SplitwiseSim adds prompt_size + 1 at routing and takes them off as the prompt and the request finish.</remarks>
public sealed class TokenJsqScheduler : IClusterScheduler
{
    /// <inheritdoc />
    public string Name => "token-jsq";

    /// <inheritdoc />
    public RouteDecision Route(in InferenceRequest request, IClusterView cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        if (cluster is not IRequestCountView counts)
        {
            throw new StrataException("token-jsq routing needs a cluster that counts requests in flight per machine (the simulator does); pick another --routing here.");
        }

        var best = 0;
        var bestScore = long.MaxValue;
        for (var m = 0; m < cluster.MachineCount; m++)
        {
            var score = cluster.PendingPromptTokens(m) + counts.RequestsInFlight(m);
            if (score < bestScore)
            {
                (best, bestScore) = (m, score);
            }
        }

        return new RouteDecision(best, best);
    }
}
