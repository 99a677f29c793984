using Strata.Core;
using Strata.Core.Placement;
using Strata.Planning.Swarm;

namespace Strata.Planning.Placement;

/// <summary>
/// PETALS' block placement: block count from the device's memory less PETALS' autograd reserve, with a fixed 4,096-token
/// attention cache per block (16,384 with grouped-query attention); servers join one
/// by one and take the window whose sorted throughputs are lexicographically smallest ("raise the weakest block"), then
/// rebalance: a server moves when the swarm's weakest throughput with it where it is, over the weakest after its best
/// move, is below 0.75, and never when leaving would leave a block unserved.
/// </summary>
/// <remarks>
/// A server announces <c>min(forward_rps / ((m_j + 1) / 2), network_rps)</c> (PETALS' <c>throughput.py</c>): its
/// 1,024-token forward speed per block over the mean span a request uses there, capped by its bandwidth over
/// <c>hidden_size x 16</c> bits. The two ablations of Sun et al. are
/// options: CG-BP's block counts (<see cref="UseConservativeCounts"/>) and CG-BP's server order as the join order
/// (<see cref="UseConservativeOrder"/>). Otherwise servers join in index order.
/// </remarks>
public sealed class PetalsPlacement : IPlacementPolicy
{
    /// <summary>Tokens of attention cache PETALS reserves per block when sizing its block count (multi-head attention).</summary>
    public const int CacheTokensPerBlock = 4096;

    /// <summary>Tokens of attention cache PETALS reserves per block for a model with grouped-query attention.</summary>
    public const int GroupedQueryCacheTokensPerBlock = 16384;

    /// <summary>PETALS' rebalancing threshold.</summary>
    public const double BalanceQuality = 0.75;

    /// <summary>Creates PETALS or one of its ablations.</summary>
    public PetalsPlacement(bool useConservativeCounts = false, bool useConservativeOrder = false)
    {
        UseConservativeCounts = useConservativeCounts;
        UseConservativeOrder = useConservativeOrder;
    }

    /// <summary>Block counts from CG-BP's conservative rule instead of the fixed 4,096-token cache.</summary>
    public bool UseConservativeCounts { get; }

    /// <summary>Servers join in CG-BP's amortised-time order instead of index order.</summary>
    public bool UseConservativeOrder { get; }

    /// <inheritdoc />
    public string Name => (UseConservativeCounts, UseConservativeOrder) switch
    {
        (true, false) => "petals-cgbp-counts",
        (false, true) => "petals-cgbp-order",
        (true, true) => "petals-cgbp-both",
        _ => "petals",
    };

    /// <inheritdoc />
    public PlacementResult Place(SwarmInstance instance, double rateRequestsPerSecond)
    {
        ArgumentNullException.ThrowIfNull(instance);
        int? r = UseConservativeCounts ? ConservativeGreedyPlacement.ChooseConcurrency(instance, rateRequestsPerSecond) : null;
        var counts = UseConservativeCounts ? ConservativeGreedyPlacement.BlockCounts(instance, r!.Value) : BlockCounts(instance);
        var order = UseConservativeOrder
            ? ConservativeGreedyPlacement.ServerOrder(instance, counts)
            : [.. Enumerable.Range(0, instance.Servers.Count).Where(j => counts[j] > 0)];
        if (counts.Sum(c => (long)c) < instance.LayerCount)
        {
            throw new StrataException($"The swarm cannot cover all {instance.LayerCount} blocks: its servers hold {counts.Sum()} blocks in all with PETALS' cache reservation; add servers or use devices with more memory.");
        }

        var placement = Join(instance, counts, order);
        placement = Rebalance(instance, placement);
        return new PlacementResult(placement.Validate(instance), UseConservativeCounts ? r : null);
    }

    /// <summary>
    /// PETALS servers allocate a fixed attention cache of <see cref="CacheTokens"/> tokens per hosted block and
    /// leave the rest of memory unused; a session of <c>l_in + l_max</c> tokens takes that many tokens per block. With
    /// CG-BP's block counts (the ablation) the cache is the memory CG-BP reserved, as for CG-BP.
    /// </summary>
    public int CacheSlots(SwarmInstance instance, int server, int blockCount)
    {
        ArgumentNullException.ThrowIfNull(instance);
        if (UseConservativeCounts)
        {
            return instance.CacheSlots(server, blockCount);
        }

        // The fixed cache fits PETALS' usable memory by construction of its count; a hand-made placement may not.
        var free = instance.Servers[server].Costs.PetalsUsableMemoryBytes - (blockCount * instance.Costs.BlockBytes);
        var memorySlots = free <= 0 ? 0 : (long)Math.Min(int.MaxValue / 2, Math.Floor(free / instance.SessionCacheBytesPerBlock));
        var fixedSlots = (long)CacheTokens(instance.Costs) * blockCount / (instance.PromptTokens + instance.OutputTokens);
        return (int)Math.Min(memorySlots, fixedSlots);
    }

    /// <summary>Cache tokens PETALS sizes per block: 4,096, or 16,384 with grouped-query attention (<c>server.py</c>, <c>attn_cache_tokens</c>).</summary>
    public static int CacheTokens(SwarmCosts costs)
    {
        ArgumentNullException.ThrowIfNull(costs);
        return costs.KeyValueGroups > 1 ? GroupedQueryCacheTokensPerBlock : CacheTokensPerBlock;
    }

    /// <summary>
    /// PETALS' block counts (<c>server.py</c>, <c>_choose_num_blocks</c>):
    /// <c>min(floor((total_memory - autograd_reserve) / (s_m + cache_tokens x cache bytes per token)), L)</c>, and the
    /// device's opt-in cap (<see cref="SwarmDeviceCosts.PetalsBlockCap"/>); 0 when not even one block fits.
    /// </summary>
    public static int[] BlockCounts(SwarmInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var perBlock = instance.Costs.BlockBytes + (CacheTokens(instance.Costs) * instance.Costs.CacheBytesPerBlockPerToken);
        return [.. instance.Servers.Select(s =>
        {
            var count = (int)Math.Clamp(Math.Floor(s.Costs.PetalsUsableMemoryBytes / perBlock), 0, instance.LayerCount);
            return s.Costs.PetalsBlockCap is { } cap ? Math.Min(count, cap) : count;
        })];
    }

    /// <summary>
    /// Throughput a server announces (<c>throughput.py</c>): <c>min(forward_rps / ((m + 1) / 2), network_rps)</c>, with
    /// <c>forward_rps</c> its 1,024-token forward speed per block and <c>network_rps</c> its bandwidth in bits per second
    /// over <c>hidden_size x 16</c> (the bandwidth of its best path to a client; no cap when the hidden size is unknown).
    /// </summary>
    public static double AnnouncedThroughput(SwarmInstance instance, int server, int blockCount)
    {
        ArgumentNullException.ThrowIfNull(instance);
        if (blockCount <= 0)
        {
            return 0;
        }

        var compute = instance.Servers[server].Costs.ForwardTokensPerSecond / ((blockCount + 1) / 2.0);
        return Math.Min(compute, NetworkTokensPerSecond(instance, server));
    }

    /// <summary>PETALS' <c>network_rps</c> of <paramref name="server"/>: bits per second to its best-connected client over <c>hidden_size x 16</c>; +infinity when the hidden size is unknown.</summary>
    public static double NetworkTokensPerSecond(SwarmInstance instance, int server)
    {
        ArgumentNullException.ThrowIfNull(instance);
        if (instance.Costs.HiddenSize <= 0)
        {
            return double.PositiveInfinity;
        }

        var node = instance.Servers[server].Node;
        var bytesPerSecond = instance.Clients.Max(c => Math.Min(instance.Network.BandwidthBytesPerSecond(node, c.Node), instance.Network.BandwidthBytesPerSecond(c.Node, node)));
        return bytesPerSecond * 8 / (instance.Costs.HiddenSize * 16.0);
    }

    /// <summary>Servers of <paramref name="order"/> join one by one, each taking the weakest window for its count.</summary>
    public static SwarmPlacement Join(SwarmInstance instance, IReadOnlyList<int> counts, IEnumerable<int> order)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(counts);
        ArgumentNullException.ThrowIfNull(order);
        var throughput = new double[instance.LayerCount];
        var firsts = new int[instance.Servers.Count];
        var placed = new int[instance.Servers.Count];
        foreach (var j in order)
        {
            var m = counts[j];
            if (m <= 0)
            {
                continue;
            }

            var start = WeakestWindow(throughput, m);
            firsts[j] = start;
            placed[j] = m;
            Add(throughput, start, m, AnnouncedThroughput(instance, j, m));
        }

        return new SwarmPlacement(firsts, placed);
    }

    /// <summary>PETALS' periodic rebalancing, run in rounds over the servers until none moves (at most one round per server).</summary>
    public static SwarmPlacement Rebalance(SwarmInstance instance, SwarmPlacement placement, Func<int, bool>? alive = null)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(placement);
        var throughput = Throughputs(instance, placement, alive);
        for (var round = 0; round < placement.ServerCount; round++)
        {
            var moved = false;
            for (var j = 0; j < placement.ServerCount; j++)
            {
                var m = placement.Blocks(j).Count;
                if (m <= 0 || (alive is not null && !alive(j)))
                {
                    continue;
                }

                var own = AnnouncedThroughput(instance, j, m);
                var first = placement.Blocks(j).First;
                Add(throughput, first, m, -own);
                var leavesHole = false;
                for (var b = first; b < first + m; b++)
                {
                    leavesHole |= throughput[b] <= 1e-12;
                }

                var start = WeakestWindow(throughput, m);
                var before = MinWith(throughput, first, m, own);
                var after = MinWith(throughput, start, m, own);
                if (!leavesHole && start != first && before / (after + 1e-3) < BalanceQuality)
                {
                    placement = placement.With(j, new BlockRange(start, m));
                    first = start;
                    moved = true;
                }

                Add(throughput, first, m, own);
            }

            if (!moved)
            {
                break;
            }
        }

        return placement;
    }

    /// <summary>Per-block throughput of the live servers of <paramref name="placement"/>.</summary>
    public static double[] Throughputs(SwarmInstance instance, SwarmPlacement placement, Func<int, bool>? alive = null)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(placement);
        var throughput = new double[instance.LayerCount];
        for (var j = 0; j < placement.ServerCount; j++)
        {
            var blocks = placement.Blocks(j);
            if (blocks.Count > 0 && (alive is null || alive(j)))
            {
                Add(throughput, blocks.First, blocks.Count, AnnouncedThroughput(instance, j, blocks.Count));
            }
        }

        return throughput;
    }

    /// <summary>The start of the window of <paramref name="m"/> blocks whose sorted values are lexicographically smallest (ties: lowest start).</summary>
    public static int WeakestWindow(double[] values, int m)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(m);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(m, values.Length);
        var best = 0;
        var bestSorted = values[..m];
        Array.Sort(bestSorted);
        var candidate = new double[m];
        for (var start = 1; start + m <= values.Length; start++)
        {
            Array.Copy(values, start, candidate, 0, m);
            Array.Sort(candidate);
            if (LexicographicallyLess(candidate, bestSorted))
            {
                (bestSorted, candidate) = (candidate, bestSorted);
                best = start;
            }
        }

        return best;
    }

    private static bool LexicographicallyLess(double[] a, double[] b)
    {
        for (var i = 0; i < a.Length; i++)
        {
            if (a[i] < b[i] - 1e-12)
            {
                return true;
            }

            if (a[i] > b[i] + 1e-12)
            {
                return false;
            }
        }

        return false;
    }

    private static void Add(double[] throughput, int first, int count, double value)
    {
        for (var b = first; b < first + count; b++)
        {
            throughput[b] += value;
        }
    }

    private static double MinWith(double[] throughput, int first, int count, double own)
    {
        var min = double.PositiveInfinity;
        for (var b = 0; b < throughput.Length; b++)
        {
            min = Math.Min(min, throughput[b] + (b >= first && b < first + count ? own : 0));
        }

        return min;
    }
}
