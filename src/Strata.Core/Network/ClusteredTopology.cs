namespace Strata.Core.Network;

/// <summary>The "clustered" preset of Sun et al.: clients, fast servers and slow servers in three clusters.</summary>
/// <remarks>
/// Node 0 holds the clients, node 1 the A100 servers, node 2 the MIG servers. Inside a cluster: 5 ms one-way and
/// 1 Gbit/s; between clusters: 100 ms one-way and 100 Mbit/s (the paper's tc settings, read as one-way delays).
/// </remarks>
public static class ClusteredTopology
{
    /// <summary>One-way delay between two machines of one cluster.</summary>
    public const double InsideDelaySeconds = 0.005;

    /// <summary>One-way delay between clusters.</summary>
    public const double BetweenDelaySeconds = 0.100;

    /// <summary>Bandwidth inside a cluster (1 Gbit/s).</summary>
    public const double InsideBandwidthBytesPerSecond = 1e9 / 8;

    /// <summary>Bandwidth between clusters (100 Mbit/s).</summary>
    public const double BetweenBandwidthBytesPerSecond = 100e6 / 8;

    /// <summary>Index of the clients' cluster.</summary>
    public const int ClientCluster = 0;

    /// <summary>Index of the fast (A100) servers' cluster.</summary>
    public const int FastCluster = 1;

    /// <summary>Index of the slow (MIG) servers' cluster.</summary>
    public const int SlowCluster = 2;

    /// <summary>The three-cluster network.</summary>
    public static NodeLatencies Create(
        double insideDelaySeconds = InsideDelaySeconds,
        double betweenDelaySeconds = BetweenDelaySeconds)
    {
        string[] names = ["clients", "fast-servers", "slow-servers"];
        var delay = new double[3, 3];
        var bandwidth = new double[3, 3];
        for (var i = 0; i < 3; i++)
        {
            for (var j = 0; j < 3; j++)
            {
                delay[i, j] = i == j ? insideDelaySeconds : betweenDelaySeconds;
                bandwidth[i, j] = i == j ? InsideBandwidthBytesPerSecond : BetweenBandwidthBytesPerSecond;
            }
        }

        return new NodeLatencies("clustered", names, delay, bandwidth);
    }
}
