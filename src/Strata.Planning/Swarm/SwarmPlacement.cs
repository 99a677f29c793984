using Strata.Core;
using Strata.Core.Identity;
using Strata.Core.Placement;

namespace Strata.Planning.Swarm;

/// <summary>Which contiguous block range each server hosts (<c>[a_j, a_j + m_j)</c>; <c>m_j = 0</c>: the server serves nothing).</summary>
public sealed class SwarmPlacement
{
    private readonly int[] _firstBlock;
    private readonly int[] _blockCount;

    /// <summary>Creates a placement from per-server first blocks and block counts (copied).</summary>
    public SwarmPlacement(IReadOnlyList<int> firstBlock, IReadOnlyList<int> blockCount)
    {
        ArgumentNullException.ThrowIfNull(firstBlock);
        ArgumentNullException.ThrowIfNull(blockCount);
        if (firstBlock.Count != blockCount.Count)
        {
            throw new ArgumentException("one first block and one count per server", nameof(blockCount));
        }

        _firstBlock = [.. firstBlock];
        _blockCount = [.. blockCount];
    }

    /// <summary>Number of servers.</summary>
    public int ServerCount => _firstBlock.Length;

    /// <summary>First block of <paramref name="server"/> (<c>a_j</c>).</summary>
    public int FirstBlock(int server) => _firstBlock[server];

    /// <summary>Number of blocks of <paramref name="server"/> (<c>m_j</c>).</summary>
    public int BlockCount(int server) => _blockCount[server];

    /// <summary>One past the last block of <paramref name="server"/>.</summary>
    public int EndBlock(int server) => _firstBlock[server] + _blockCount[server];

    /// <summary>How many servers host each block.</summary>
    public int[] ReplicasPerBlock(int layerCount)
    {
        var replicas = new int[layerCount];
        for (var j = 0; j < ServerCount; j++)
        {
            for (var b = _firstBlock[j]; b < Math.Min(EndBlock(j), layerCount); b++)
            {
                replicas[b]++;
            }
        }

        return replicas;
    }

    /// <summary>Whether every block has a server.</summary>
    public bool Covers(int layerCount) => ReplicasPerBlock(layerCount).All(r => r > 0);

    /// <summary>The same placement with <paramref name="server"/> moved to <c>[first, first + count)</c>.</summary>
    public SwarmPlacement With(int server, int first, int count)
    {
        var firsts = (int[])_firstBlock.Clone();
        var counts = (int[])_blockCount.Clone();
        firsts[server] = first;
        counts[server] = count;
        return new SwarmPlacement(firsts, counts);
    }

    /// <summary>Checks that every range lies in the model, fits its server's memory with at least one cache slot, and together they cover every block.</summary>
    /// <exception cref="StrataException">A range is out of bounds, a server is over its memory, or some block has no server.</exception>
    public SwarmPlacement Validate(SwarmInstance instance)
    {
        ArgumentNullException.ThrowIfNull(instance);
        if (ServerCount != instance.Servers.Count)
        {
            throw new ArgumentException("placement and instance disagree on the server count", nameof(instance));
        }

        for (var j = 0; j < ServerCount; j++)
        {
            if (_blockCount[j] < 0 || _firstBlock[j] < 0 || (_blockCount[j] > 0 && EndBlock(j) > instance.LayerCount))
            {
                throw new StrataException($"Server {instance.Servers[j].Name} hosts blocks [{_firstBlock[j]}, {EndBlock(j)}); expected a range inside [0, {instance.LayerCount}).");
            }

            if (_blockCount[j] > 0 && _blockCount[j] * instance.Costs.BlockBytes > instance.Servers[j].Costs.MemoryBytes)
            {
                throw new StrataException($"Server {instance.Servers[j].Name} ({instance.Servers[j].Costs.DeviceId}) cannot hold {_blockCount[j]} blocks of {instance.Costs.BlockBytes / 1e9:G3} GB in {instance.Servers[j].Costs.MemoryBytes / 1e9:G3} GB.");
            }
        }

        var replicas = ReplicasPerBlock(instance.LayerCount);
        var missing = Array.IndexOf(replicas, 0);
        if (missing >= 0)
        {
            throw new StrataException($"The placement leaves block {missing} of {instance.LayerCount} without a server; the swarm must cover every block.");
        }

        return this;
    }

    /// <summary>The placement in Strata's shared vocabulary (servers that host nothing left out).</summary>
    public BlockPlacement ToBlockPlacement() =>
        new([.. Enumerable.Range(0, ServerCount).Where(j => _blockCount[j] > 0).Select(j => new ServerBlocks(new ServerId(j), new BlockRange(_firstBlock[j], _blockCount[j])))]);
}
