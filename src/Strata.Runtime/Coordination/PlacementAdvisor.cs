using System.Globalization;
using System.Text;
using Strata.Core.Placement;
using Strata.Planning.Placement;

namespace Strata.Runtime.Coordination;

/// <summary>Which blocks a server joining with <c>--auto</c> should host, and when it should move: PETALS' "raise the weakest block" rule over the live servers.</summary>
/// <remarks>
/// Each live server adds its announced throughput, <c>(1 / tau) / ((m + 1) / 2)</c> requests per second (its per-block
/// speed over the mean span a request uses there), to every block it hosts; the joiner takes the window of its block
/// count whose sorted throughputs are lexicographically smallest, lowest start on ties, so a window with the most
/// uncovered blocks comes first. The rule itself is <c>PetalsPlacement.WeakestWindow</c> of Strata.Planning (the
/// simulator's), applied online to the coordinator's registry.
/// </remarks>
public static class PlacementAdvisor
{
    /// <summary>The blocks a server able to hold <paramref name="maxBlocks"/> blocks should host.</summary>
    public static BlockRange Place(IReadOnlyList<RegisteredServer> servers, int layerCount, int maxBlocks, double defaultDecodeSecondsPerBlock)
    {
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layerCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBlocks);
        var count = Math.Min(maxBlocks, layerCount);
        return new BlockRange(PetalsPlacement.WeakestWindow(Throughputs(servers, layerCount, defaultDecodeSecondsPerBlock, except: null), count), count);
    }

    /// <summary>
    /// Where the live server <paramref name="serverId"/> should move (PETALS' periodic rebalancing), or null to stay.
    /// </summary>
    /// <remarks>
    /// Without the server, the weakest window of its block count is its candidate. It moves there when that serves
    /// blocks no live server serves otherwise: fewer uncovered blocks with it at the candidate than where it is (so a
    /// move never opens a gap, and a swarm with gaps closes them one move at a time). With every block covered either
    /// way it moves, as PETALS does, only when the swarm's minimum block throughput rises enough: the minimum where it
    /// is over the minimum at the candidate is under <paramref name="balanceQuality"/>.
    /// </remarks>
    /// <param name="servers">The live servers of one model, the mover among them.</param>
    /// <param name="serverId">The server that may move.</param>
    /// <param name="layerCount">The model's blocks.</param>
    /// <param name="defaultDecodeSecondsPerBlock">Decode seconds per block assumed for servers that reported none.</param>
    /// <param name="balanceQuality">PETALS' threshold, in (0, 1]: smaller moves less often. Default 0.75 (PETALS').</param>
    public static BlockRange? Rebalance(
        IReadOnlyList<RegisteredServer> servers, string serverId, int layerCount, double defaultDecodeSecondsPerBlock, double balanceQuality = PetalsPlacement.BalanceQuality)
    {
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(layerCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(balanceQuality);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(balanceQuality, 1.0);
        var self = servers.FirstOrDefault(s => string.Equals(s.ServerId, serverId, StringComparison.Ordinal));
        if (self is null || self.Blocks.End > layerCount)
        {
            return null;
        }

        var others = Throughputs(servers, layerCount, defaultDecodeSecondsPerBlock, except: serverId);
        var own = Announced(self, defaultDecodeSecondsPerBlock);
        var here = self.Blocks;
        var there = new BlockRange(PetalsPlacement.WeakestWindow(others, here.Count), here.Count);
        if (there.First == here.First)
        {
            return null;
        }

        var (uncoveredHere, minimumHere) = Measure(others, here, own);
        var (uncoveredThere, minimumThere) = Measure(others, there, own);
        var covers = uncoveredThere < uncoveredHere;
        var balances = uncoveredHere == 0 && uncoveredThere == 0 && minimumHere / minimumThere < balanceQuality;
        return covers || balances ? there : null;
    }

    /// <summary>The blocks of <paramref name="blocks"/> that none of <paramref name="servers"/> hosts, ascending.</summary>
    public static IReadOnlyList<int> Uncovered(IEnumerable<BlockRange> servers, BlockRange blocks)
    {
        ArgumentNullException.ThrowIfNull(servers);
        var covered = new bool[blocks.Count];
        foreach (var hosted in servers)
        {
            var shared = hosted.Intersect(blocks);
            for (var b = shared.First; b < shared.End; b++)
            {
                covered[b - blocks.First] = true;
            }
        }

        return [.. Enumerable.Range(blocks.First, blocks.Count).Where(b => !covered[b - blocks.First])];
    }

    /// <summary>Ascending block indices as runs, for messages: <c>[3, 4, 5, 9]</c> is <c>"3-5, 9"</c>.</summary>
    public static string DescribeBlocks(IReadOnlyList<int> blocks)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        var text = new StringBuilder();
        for (var i = 0; i < blocks.Count;)
        {
            var j = i;
            while (j + 1 < blocks.Count && blocks[j + 1] == blocks[j] + 1)
            {
                j++;
            }

            text.Append(text.Length > 0 ? ", " : string.Empty)
                .Append(j > i ? string.Create(CultureInfo.InvariantCulture, $"{blocks[i]}-{blocks[j]}") : blocks[i].ToString(CultureInfo.InvariantCulture));
            i = j + 1;
        }

        return text.ToString();
    }

    private static double[] Throughputs(IReadOnlyList<RegisteredServer> servers, int layerCount, double defaultDecodeSecondsPerBlock, string? except)
    {
        var throughput = new double[layerCount];
        foreach (var s in servers)
        {
            if (except is not null && string.Equals(s.ServerId, except, StringComparison.Ordinal))
            {
                continue;
            }

            var announced = Announced(s, defaultDecodeSecondsPerBlock);
            for (var b = s.Blocks.First; b < Math.Min(s.Blocks.End, layerCount); b++)
            {
                throughput[b] += announced;
            }
        }

        return throughput;
    }

    private static double Announced(RegisteredServer server, double defaultDecodeSecondsPerBlock)
    {
        var tau = server.DecodeSecondsPerBlock > 0 ? server.DecodeSecondsPerBlock : defaultDecodeSecondsPerBlock;
        return 1.0 / tau / ((server.Blocks.Count + 1) / 2.0);
    }

    // Uncovered blocks and the minimum block throughput of the swarm with a server of throughput `own` on `blocks`.
    private static (int Uncovered, double Minimum) Measure(double[] others, BlockRange blocks, double own)
    {
        var uncovered = 0;
        var minimum = double.PositiveInfinity;
        for (var b = 0; b < others.Length; b++)
        {
            var value = others[b] + (blocks.Contains(b) ? own : 0);
            uncovered += value <= 0 ? 1 : 0;
            minimum = Math.Min(minimum, value);
        }

        return (uncovered, minimum);
    }
}
