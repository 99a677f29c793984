using Strata.Planning.Placement;

namespace Strata.Runtime.Coordination;

/// <summary>Which blocks a server joining with <c>--auto</c> should host: PETALS' "raise the weakest block" rule over the live servers.</summary>
/// <remarks>
/// Each live server adds its announced throughput, <c>(1 / tau) / ((m + 1) / 2)</c> requests per second (its per-block
/// speed over the mean span a request uses there), to every block it hosts; the joiner takes the window of its block
/// count whose sorted throughputs are lexicographically smallest, lowest start on ties. The rule itself is
/// <c>PetalsPlacement.WeakestWindow</c> of Strata.Planning (the simulator's), applied online to the coordinator's registry.
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

        return (PetalsPlacement.WeakestWindow([.. throughput], count), count);
    }
}
