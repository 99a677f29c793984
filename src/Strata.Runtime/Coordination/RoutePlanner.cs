using Strata.Runtime.Protocol;

namespace Strata.Runtime.Coordination;

/// <summary>
/// Routes for clients: the cheapest chain of (server, block range) that covers a span of blocks, PETALS' min-latency
/// routing over the registry with WS-RR's load terms.
/// </summary>
/// <remarks>
/// A shortest path over block boundaries <c>first..end</c>: an edge <c>b -> e</c> exists for every eligible server that
/// hosts <c>[b, e)</c>, and costs the hop overhead (one network round trip plus software per decode step, as in PETALS)
/// plus <c>(e - b)</c> times the server's per-block decode time scaled by <c>1 + sessions</c> (a CPU server runs its
/// sessions' steps one after another, so a step waits behind the others: WS-RR's waiting term). A server whose free
/// KV memory cannot hold the session's cache for the span gets <see cref="FullServerPenaltySeconds"/> instead of being
/// dropped (WS-RR would wait for a slot; the client retries or waits when it answers RESOURCE_EXHAUSTED). Ties go to
/// the fewer hops, then to the lower server id, so the same registry gives the same route.
/// </remarks>
public static class RoutePlanner
{
    /// <summary>Cost added for a server that cannot hold the session's KV cache now, seconds.</summary>
    public const double FullServerPenaltySeconds = 10;

    /// <summary>The cheapest chain covering <c>[firstBlock, endBlock)</c>; null when the eligible servers leave a gap.</summary>
    /// <param name="servers">Live servers of the model, ordered by id.</param>
    /// <param name="firstBlock">First block to cover.</param>
    /// <param name="endBlock">One past the last block to cover.</param>
    /// <param name="role">Which servers may serve (see <see cref="RegisteredServer.Serves"/>).</param>
    /// <param name="excluded">Server ids the client found dead or full.</param>
    /// <param name="kvBytesPerBlock">KV bytes the session needs in each block (0: unknown).</param>
    /// <param name="options">Hop overhead and default per-block time.</param>
    public static (IReadOnlyList<(RegisteredServer Server, int FirstBlock, int BlockCount)> Hops, double SecondsPerToken)? Route(
        IReadOnlyList<RegisteredServer> servers, int firstBlock, int endBlock, ServerRole role, IReadOnlySet<string> excluded,
        long kvBytesPerBlock, CoordinatorOptions options)
    {
        // Whole-generation routes use servers of role both; prefill or decode servers only when those cannot cover the blocks.
        return Route(servers, firstBlock, endBlock, excluded, kvBytesPerBlock, options, s => s.Serves(role))
            ?? (RegisteredServer.ServesAsFallback(role) ? Route(servers, firstBlock, endBlock, excluded, kvBytesPerBlock, options, _ => true) : null);
    }

    private static (IReadOnlyList<(RegisteredServer Server, int FirstBlock, int BlockCount)> Hops, double SecondsPerToken)? Route(
        IReadOnlyList<RegisteredServer> servers, int firstBlock, int endBlock, IReadOnlySet<string> excluded,
        long kvBytesPerBlock, CoordinatorOptions options, Func<RegisteredServer, bool> eligibleForRole)
    {
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentNullException.ThrowIfNull(excluded);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(firstBlock);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(endBlock, firstBlock);
        var span = endBlock - firstBlock;
        var cost = new double[span + 1];
        var hops = new int[span + 1];
        var via = new (int Server, int From)[span + 1];
        Array.Fill(cost, double.PositiveInfinity);
        cost[0] = 0;
        var eligible = servers.Where(s => eligibleForRole(s) && !excluded.Contains(s.ServerId)).ToArray();
        for (var b = 0; b < span; b++)
        {
            if (double.IsPositiveInfinity(cost[b]))
            {
                continue;
            }

            var block = firstBlock + b;
            for (var j = 0; j < eligible.Length; j++)
            {
                var s = eligible[j];
                if (block < s.FirstBlock || block >= s.EndBlock)
                {
                    continue;
                }

                var perBlock = (s.DecodeSecondsPerBlock > 0 ? s.DecodeSecondsPerBlock : options.DefaultDecodeSecondsPerBlock) * (1 + Math.Max(0, s.Sessions));
                for (var e = block + 1; e <= Math.Min(s.EndBlock, endBlock); e++)
                {
                    var blocks = e - block;
                    var full = kvBytesPerBlock > 0 && s.FreeKvBytes < kvBytesPerBlock * blocks;
                    var candidate = cost[b] + options.HopOverheadSeconds + (blocks * perBlock) + (full ? FullServerPenaltySeconds : 0);
                    var to = e - firstBlock;
                    if (candidate < cost[to] - 1e-15 || (Math.Abs(candidate - cost[to]) <= 1e-15 && hops[b] + 1 < hops[to]))
                    {
                        cost[to] = candidate;
                        hops[to] = hops[b] + 1;
                        via[to] = (j, b);
                    }
                }
            }
        }

        if (double.IsPositiveInfinity(cost[span]))
        {
            return null;
        }

        var route = new List<(RegisteredServer, int, int)>();
        for (var at = span; at > 0; at = via[at].From)
        {
            route.Add((eligible[via[at].Server], firstBlock + via[at].From, at - via[at].From));
        }

        route.Reverse();
        return (route, cost[span]);
    }
}
