using Strata.Core;
using Strata.Planning.Routing;
using Strata.Planning.Swarm;

namespace Strata.Planning.Placement;

/// <summary>
/// CG-BP (Sun et al.): a conservative block count that reserves cache for <c>R</c> concurrent sessions through every block,
/// servers in order of amortised per-block time, each window placed greedily over the worst-served blocks.
/// </summary>
/// <remarks>
/// <list type="number">
/// <item><c>m_j = min(floor(M_j / (s_m + s_c R)), L)</c>.</item>
/// <item>Order by <c>t~_j = tau_j + t*_j / m_j</c>, <c>t*_j</c> the worst client's per-step time to j; fastest first.</item>
/// <item>Per block: capacity <c>C_b</c> and amortised time <c>T_b</c> (from a dummy slow server <c>t_max</c>). While some
/// block has <c>C_b &lt; R</c>, the window contains one such block and has the largest <c>sum T_b</c>; after that, the
/// PETALS rule (lexicographically smallest sorted capacities). Then <c>T_b -= (t_max - t~_j) min(max(R - C_b, 0), n_j)</c>,
/// <c>C_b += n_j</c>, with <c>n_j</c> the sessions j holds through all its blocks.</item>
/// </list>
/// O(|V_s| (log |V_s| + L m)). With no fixed R, R is chosen from the load: <c>lambda T + sqrt(lambda T)</c> with T the
/// request time along the shortest path, capped at the largest feasible R.
/// </remarks>
public sealed class ConservativeGreedyPlacement : IPlacementPolicy
{
    private readonly int? _concurrency;

    /// <summary>Creates the policy; <paramref name="concurrency"/> fixes R, null chooses it from the load.</summary>
    public ConservativeGreedyPlacement(int? concurrency = null)
    {
        if (concurrency is { } r)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(r);
        }

        _concurrency = concurrency;
    }

    /// <inheritdoc />
    public string Name => "cg-bp";

    /// <inheritdoc />
    public PlacementResult Place(SwarmInstance instance, double rateRequestsPerSecond)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var r = _concurrency ?? ChooseConcurrency(instance, rateRequestsPerSecond);
        return PlaceFor(instance, r);
    }

    /// <summary>The CG-BP placement for exactly <paramref name="concurrency"/> sessions.</summary>
    /// <exception cref="StrataException">With that R the servers cannot cover every block.</exception>
    public static PlacementResult PlaceFor(SwarmInstance instance, int concurrency)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var counts = BlockCounts(instance, concurrency);
        var layers = instance.LayerCount;
        if (counts.Sum(c => (long)c) < layers)
        {
            throw new StrataException(
                $"The swarm cannot cover all {layers} blocks while reserving cache for {concurrency} concurrent sessions (servers hold {counts.Sum()} blocks in all); add servers, or lower the rate or output length.");
        }

        var order = ServerOrder(instance, counts);
        var amortised = AmortisedSeconds(instance, counts);
        var tMax = (amortised.Where(double.IsFinite).DefaultIfEmpty(1).Max() * 10) + 1;
        var capacity = new long[layers];
        var time = new double[layers];
        Array.Fill(time, tMax * concurrency);
        var firsts = new int[instance.Servers.Count];
        foreach (var j in order)
        {
            var m = counts[j];
            var sessions = instance.CacheSlots(j, m) / m;
            var start = capacity.Any(c => c < concurrency)
                ? LargestUnderServedWindow(capacity, time, m, concurrency)
                : PetalsPlacement.WeakestWindow(capacity.Select(c => (double)c).ToArray(), m);
            firsts[j] = start;
            for (var b = start; b < start + m; b++)
            {
                time[b] -= (tMax - amortised[j]) * Math.Min(Math.Max(concurrency - capacity[b], 0), sessions);
                capacity[b] += sessions;
            }
        }

        var placement = new SwarmPlacement(firsts, counts).Validate(instance);
        return new PlacementResult(placement, concurrency, TheoremTwoBoundSeconds(instance, counts));
    }

    /// <summary>Conservative block counts <c>min(floor(M_j / (s_m + s_c R)), L)</c>.</summary>
    public static int[] BlockCounts(SwarmInstance instance, int concurrency)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var perBlock = instance.Costs.BlockBytes + (instance.SessionCacheBytesPerBlock * concurrency);
        return [.. instance.Servers.Select(s => (int)Math.Min(Math.Floor(s.Costs.MemoryBytes / perBlock), instance.LayerCount))];
    }

    /// <summary>Amortised per-block time <c>t~_j = tau_j + t*_j / m_j</c> (+infinity for a server with no blocks).</summary>
    public static double[] AmortisedSeconds(SwarmInstance instance, IReadOnlyList<int> counts)
    {
        ArgumentNullException.ThrowIfNull(instance);
        ArgumentNullException.ThrowIfNull(counts);
        return [.. Enumerable.Range(0, instance.Servers.Count).Select(j => counts[j] <= 0
            ? double.PositiveInfinity
            : instance.DecodeSecondsPerBlock(j) + (instance.WorstClientSecondsPerToken(j) / counts[j]))];
    }

    /// <summary>Servers with blocks, fastest amortised time first (ties by index).</summary>
    public static int[] ServerOrder(SwarmInstance instance, IReadOnlyList<int> counts)
    {
        var amortised = AmortisedSeconds(instance, counts);
        return [.. Enumerable.Range(0, instance.Servers.Count).Where(j => counts[j] > 0).OrderBy(j => amortised[j]).ThenBy(j => j)];
    }

    /// <summary>Theorem 2: <c>sum_{j&lt;=K} t~_j m_j - tau_K (sum_{j&lt;=K} m_j - L)</c>, K the shortest prefix of the order holding L blocks.</summary>
    public static double TheoremTwoBoundSeconds(SwarmInstance instance, IReadOnlyList<int> counts)
    {
        var amortised = AmortisedSeconds(instance, counts);
        double bound = 0;
        long held = 0;
        foreach (var j in ServerOrder(instance, counts))
        {
            bound += amortised[j] * counts[j];
            held += counts[j];
            if (held >= instance.LayerCount)
            {
                return bound - (instance.DecodeSecondsPerBlock(j) * (held - instance.LayerCount));
            }
        }

        return double.PositiveInfinity;
    }

    /// <summary>Largest R the servers can reserve for while still covering every block (0 if not even R = 1).</summary>
    public static int MaxFeasibleConcurrency(SwarmInstance instance)
    {
        bool Feasible(int r) => BlockCounts(instance, r).Sum(c => (long)c) >= instance.LayerCount;
        if (!Feasible(1))
        {
            return 0;
        }

        int low = 1, high = 2;
        while (high < 1 << 24 && Feasible(high))
        {
            low = high;
            high *= 2;
        }

        while (high - low > 1)
        {
            var mid = low + ((high - low) / 2);
            if (Feasible(mid))
            {
                low = mid;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }

    /// <summary>R from the load: <c>ceil(lambda T + sqrt(lambda T))</c>, T the mean request time on the shortest paths, at least 1, at most the largest feasible R.</summary>
    /// <exception cref="StrataException">Not even one session fits while covering every block.</exception>
    public static int ChooseConcurrency(SwarmInstance instance, double rateRequestsPerSecond)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var max = MaxFeasibleConcurrency(instance);
        if (max == 0)
        {
            throw new StrataException($"The swarm cannot cover all {instance.LayerCount} blocks even with cache for one session; add servers or use devices with more memory.");
        }

        var r = 1;
        for (var iteration = 0; iteration < 3 && rateRequestsPerSecond > 0; iteration++)
        {
            var placement = PlaceFor(instance, r).Placement;
            var routing = new ShortestPathRouting();
            var seconds = Enumerable.Range(0, instance.Clients.Count)
                .Select(c => routing.Route(instance, placement, c, IdleSwarmLoad.Instance, 0)?.CostSeconds ?? 0).Average();
            var load = rateRequestsPerSecond * seconds;
            var next = (int)Math.Clamp(Math.Ceiling(load + Math.Sqrt(load)), 1, max);
            if (next == r)
            {
                break;
            }

            r = next;
        }

        return r;
    }

    private static int LargestUnderServedWindow(long[] capacity, double[] time, int m, int concurrency)
    {
        var layers = capacity.Length;
        var best = -1;
        var bestSum = double.NegativeInfinity;
        double sum = 0;
        var under = 0;
        for (var b = 0; b < layers; b++)
        {
            sum += time[b];
            under += capacity[b] < concurrency ? 1 : 0;
            if (b >= m)
            {
                sum -= time[b - m];
                under -= capacity[b - m] < concurrency ? 1 : 0;
            }

            if (b >= m - 1 && under > 0 && sum > bestSum + 1e-12)
            {
                bestSum = sum;
                best = b - m + 1;
            }
        }

        return Math.Max(best, 0);
    }
}
