namespace Strata.Core.Network;

/// <summary>One-way delay and bandwidth between every pair of network nodes (a node to itself included).</summary>
/// <remarks>Immutable once built. The diagonal is the delay between two machines on the same node.</remarks>
public sealed class NodeLatencies
{
    private readonly double[,] _delaySeconds;
    private readonly double[,] _bandwidthBytesPerSecond;

    /// <summary>Wraps the matrices (not copied).</summary>
    public NodeLatencies(string name, IReadOnlyList<string> nodeNames, double[,] delaySeconds, double[,] bandwidthBytesPerSecond)
    {
        ArgumentNullException.ThrowIfNull(nodeNames);
        ArgumentNullException.ThrowIfNull(delaySeconds);
        ArgumentNullException.ThrowIfNull(bandwidthBytesPerSecond);
        if (delaySeconds.GetLength(0) != nodeNames.Count || delaySeconds.GetLength(1) != nodeNames.Count
            || bandwidthBytesPerSecond.GetLength(0) != nodeNames.Count || bandwidthBytesPerSecond.GetLength(1) != nodeNames.Count)
        {
            throw new ArgumentException("matrices must be node count x node count", nameof(delaySeconds));
        }

        Name = name;
        NodeNames = nodeNames;
        _delaySeconds = delaySeconds;
        _bandwidthBytesPerSecond = bandwidthBytesPerSecond;
    }

    /// <summary>Where the numbers come from (topology name or preset).</summary>
    public string Name { get; }

    /// <summary>Node labels, by index.</summary>
    public IReadOnlyList<string> NodeNames { get; }

    /// <summary>Number of nodes.</summary>
    public int NodeCount => NodeNames.Count;

    /// <summary>One-way delay from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public double DelaySeconds(int from, int to) => _delaySeconds[from, to];

    /// <summary>Round-trip time between two nodes: the delay there plus the delay back.</summary>
    public double RttSeconds(int a, int b) => _delaySeconds[a, b] + _delaySeconds[b, a];

    /// <summary>Bottleneck bandwidth from <paramref name="from"/> to <paramref name="to"/> (infinite on the same node of a graph).</summary>
    public double BandwidthBytesPerSecond(int from, int to) => _bandwidthBytesPerSecond[from, to];
}
