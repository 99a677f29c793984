using Strata.Core.Placement;
using Strata.Planning.Swarm;

namespace Strata.Planning.Routing;

/// <summary>Shortest paths over the hop graph of a placement: client -> servers -> client.</summary>
/// <remarks>
/// Hop i -> j is usable iff <c>a_j &lt;= end_i &lt; end_j</c>; j then runs <c>end_j - end_i</c> blocks. The last block
/// reached strictly grows along a path, so the graph is acyclic: relaxing servers in order of their end block is
/// Dijkstra's algorithm without the heap, exact for any non-negative (indeed any) edge costs. Servers are indexed by
/// end block and each server's predecessors (ends in <c>[a_j, end_j)</c>) are one contiguous run of that order, found
/// by binary search: O(V log V + E). When the hop cost ignores the predecessor (hub-and-spoke), only the best path
/// ending at each block matters and the search is O(V L).
/// </remarks>
public sealed class HopGraph
{
    private readonly int[] _order;
    private readonly int[] _ends;
    private readonly int _layerCount;
    private readonly SwarmPlacement _placement;

    /// <summary>Indexes the servers of <paramref name="placement"/> that host blocks and for which <paramref name="usable"/> holds (all when null).</summary>
    public HopGraph(SwarmPlacement placement, int layerCount, Func<int, bool>? usable = null)
    {
        ArgumentNullException.ThrowIfNull(placement);
        _placement = placement;
        _layerCount = layerCount;
        _order = [.. Enumerable.Range(0, placement.ServerCount)
            .Where(j => placement.Blocks(j).Count > 0 && (usable is null || usable(j)))
            .OrderBy(j => placement.Blocks(j).End).ThenBy(j => j)];
        _ends = [.. _order.Select(j => placement.Blocks(j).End)];
    }

    /// <summary>The cheapest path that runs blocks <paramref name="firstBlock"/>..L-1; <see langword="null"/> when none exists.</summary>
    public SwarmRoute? ShortestPath<TCost>(ref TCost cost, int firstBlock = 0)
        where TCost : IHopCost
    {
        var n = _order.Length;
        if (n == 0)
        {
            return null;
        }

        Span<double> distance = n <= 2048 ? stackalloc double[n] : new double[n];
        Span<int> parent = n <= 2048 ? stackalloc int[n] : new int[n];
        Span<int> bestAtEnd = _layerCount < 1024 ? stackalloc int[_layerCount + 1] : new int[_layerCount + 1];
        bestAtEnd.Fill(-1);
        var bestCost = double.PositiveInfinity;
        var bestLast = -1;
        for (var position = 0; position < n; position++)
        {
            var j = _order[position];
            var first = _placement.Blocks(j).First;
            var end = _ends[position];
            distance[position] = double.PositiveInfinity;
            parent[position] = -1;
            if (end <= firstBlock)
            {
                continue;
            }

            if (first <= firstBlock)
            {
                distance[position] = cost.Enter(-1, j, end - firstBlock);
                parent[position] = -1;
            }

            if (cost.IgnoresPrevious)
            {
                // The hop cost depends on the predecessor only through its end block: one candidate per end block.
                for (var e = Math.Max(first, firstBlock + 1); e < end; e++)
                {
                    var p = bestAtEnd[e];
                    if (p < 0)
                    {
                        continue;
                    }

                    var candidate = distance[p] + cost.Enter(_order[p], j, end - e);
                    if (candidate < distance[position])
                    {
                        distance[position] = candidate;
                        parent[position] = p;
                    }
                }

                if (distance[position] < double.PositiveInfinity && (bestAtEnd[end] < 0 || distance[position] < distance[bestAtEnd[end]]))
                {
                    bestAtEnd[end] = position;
                }
            }

            // Predecessors: servers whose end lies in [max(first, firstBlock + 1), end).
            var low = cost.IgnoresPrevious ? n : LowerBound(Math.Max(first, firstBlock + 1));
            for (var p = low; p < n && _ends[p] < end; p++)
            {
                if (double.IsPositiveInfinity(distance[p]))
                {
                    continue;
                }

                var candidate = distance[p] + cost.Enter(_order[p], j, end - _ends[p]);
                if (candidate < distance[position])
                {
                    distance[position] = candidate;
                    parent[position] = p;
                }
            }

            if (end == _layerCount && !double.IsPositiveInfinity(distance[position]))
            {
                var total = distance[position] + cost.Exit(j);
                if (total < bestCost)
                {
                    bestCost = total;
                    bestLast = position;
                }
            }
        }

        if (bestLast < 0)
        {
            return null;
        }

        var hops = new List<SwarmHop>();
        for (var position = bestLast; position >= 0; position = parent[position])
        {
            var j = _order[position];
            var start = parent[position] >= 0 ? _ends[parent[position]] : firstBlock;
            hops.Add(new SwarmHop(j, BlockRange.FromBounds(start, _ends[position])));
        }

        hops.Reverse();
        return new SwarmRoute(hops, bestCost, 0);
    }

    private int LowerBound(int value)
    {
        int low = 0, high = _ends.Length;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (_ends[mid] < value)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }
}
