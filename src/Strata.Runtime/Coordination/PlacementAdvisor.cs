namespace Strata.Runtime.Coordination;

/// <summary>Which blocks a server joining with <c>--auto</c> should host: PETALS' "raise the weakest block" rule over the live servers.</summary>
/// <remarks>
/// Each live server adds its announced throughput, <c>(1 / tau) / ((m + 1) / 2)</c> requests per second (its per-block
/// speed over the mean span a request uses there), to every block it hosts; the joiner takes the window of its block
/// count whose sorted throughputs are lexicographically smallest, lowest start on ties. This is the same rule as
/// <c>PetalsPlacement.WeakestWindow</c> of Strata.Planning, applied online to the coordinator's registry.
/// </remarks>
public static class PlacementAdvisor
{
    /// <summary>The range <c>(first, count)</c> a server able to hold <paramref name="maxBlocks"/> blocks should host.</summary>
    public static (int FirstBlock, int BlockCount) Place(IReadOnlyList<RegisteredServer> servers, int layerCount, int maxBlocks, double defaultDecodeSecondsPerBlock)
    {
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layerCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBlocks);
        var count = Math.Min(maxBlocks, layerCount);
        var throughput = new double[layerCount];
        foreach (var s in servers)
        {
            var tau = s.DecodeSecondsPerBlock > 0 ? s.DecodeSecondsPerBlock : defaultDecodeSecondsPerBlock;
            var announced = 1.0 / tau / ((s.BlockCount + 1) / 2.0);
            for (var b = s.FirstBlock; b < Math.Min(s.EndBlock, layerCount); b++)
            {
                throughput[b] += announced;
            }
        }

        return (WeakestWindow(throughput, count), count);
    }

    /// <summary>The start of the window of <paramref name="count"/> blocks whose sorted values are lexicographically smallest (ties: lowest start).</summary>
    public static int WeakestWindow(IReadOnlyList<double> values, int count)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, values.Count);
        var best = 0;
        double[]? bestSorted = null;
        for (var start = 0; start + count <= values.Count; start++)
        {
            var candidate = values.Skip(start).Take(count).Order().ToArray();
            if (bestSorted is null || LexicographicallyLess(candidate, bestSorted))
            {
                bestSorted = candidate;
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
}
