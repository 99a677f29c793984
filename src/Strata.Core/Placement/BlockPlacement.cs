namespace Strata.Core.Placement;

/// <summary>Which block range every server of a swarm hosts; ranges may overlap (replication).</summary>
public sealed record BlockPlacement(IReadOnlyList<ServerBlocks> Servers)
{
    /// <summary>How many servers host each block of a model of <paramref name="layerCount"/> blocks.</summary>
    public int[] ReplicasPerBlock(int layerCount)
    {
        var replicas = new int[layerCount];
        foreach (var server in Servers)
        {
            for (var block = server.Blocks.First; block < Math.Min(server.Blocks.End, layerCount); block++)
            {
                replicas[block]++;
            }
        }

        return replicas;
    }

    /// <summary>Whether every block of the model has at least one server.</summary>
    public bool Covers(int layerCount) => ReplicasPerBlock(layerCount).All(count => count > 0);
}
