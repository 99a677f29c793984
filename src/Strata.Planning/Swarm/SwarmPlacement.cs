using Strata.Core;
using Strata.Core.Placement;

namespace Strata.Planning.Swarm;

/// <summary>Which contiguous block range each server hosts (<c>[a_j, a_j + m_j)</c>; <c>m_j = 0</c>: the server serves nothing).</summary>
public sealed class SwarmPlacement
{
    private readonly BlockRange[] _blocks;

    /// <summary>Creates a placement from per-server block ranges (copied).</summary>
    public SwarmPlacement(IReadOnlyList<BlockRange> blocks)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        _blocks = [.. blocks];
    }

    /// <summary>Creates a placement from per-server first blocks and block counts (copied).</summary>
    public SwarmPlacement(IReadOnlyList<int> firstBlock, IReadOnlyList<int> blockCount)
    {
        ArgumentNullException.ThrowIfNull(firstBlock);
        ArgumentNullException.ThrowIfNull(blockCount);
        if (firstBlock.Count != blockCount.Count)
        {
            throw new ArgumentException("one first block and one count per server", nameof(blockCount));
        }

        _blocks = new BlockRange[firstBlock.Count];
        for (var j = 0; j < _blocks.Length; j++)
        {
            _blocks[j] = new BlockRange(firstBlock[j], blockCount[j]);
        }
    }

    /// <summary>Number of servers.</summary>
    public int ServerCount => _blocks.Length;

    /// <summary>The blocks <paramref name="server"/> hosts (<c>[a_j, a_j + m_j)</c>).</summary>
    public BlockRange Blocks(int server) => _blocks[server];

    /// <summary>How many servers host each block.</summary>
    public int[] ReplicasPerBlock(int layerCount)
    {
        var replicas = new int[layerCount];
        for (var j = 0; j < ServerCount; j++)
        {
            for (var b = _blocks[j].First; b < Math.Min(_blocks[j].End, layerCount); b++)
            {
                replicas[b]++;
            }
        }

        return replicas;
    }

    /// <summary>Whether every block has a server.</summary>
    public bool Covers(int layerCount) => ReplicasPerBlock(layerCount).All(r => r > 0);

    /// <summary>The same placement with <paramref name="server"/> moved to <paramref name="blocks"/>.</summary>
    public SwarmPlacement With(int server, BlockRange blocks)
    {
        var moved = (BlockRange[])_blocks.Clone();
        moved[server] = blocks;
        return new SwarmPlacement(moved);
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
            var blocks = _blocks[j];
            if (blocks.Count > 0 && blocks.End > instance.LayerCount)
            {
                throw new StrataException($"Server {instance.Servers[j].Name} hosts blocks [{blocks.First}, {blocks.End}); expected a range inside [0, {instance.LayerCount}).");
            }

            if (blocks.Count > 0 && blocks.Count * instance.Costs.BlockBytes > instance.Servers[j].Costs.MemoryBytes)
            {
                throw new StrataException($"Server {instance.Servers[j].Name} ({instance.Servers[j].Costs.DeviceId}) cannot hold {blocks.Count} blocks of {instance.Costs.BlockBytes / 1e9:G3} GB in {instance.Servers[j].Costs.MemoryBytes / 1e9:G3} GB.");
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
}
