namespace Strata.Core.Network;

/// <summary>One-way delay and bandwidth between every pair of network nodes (a node to itself included).</summary>
/// <remarks>Immutable once built. The diagonal is the delay between two machines on the same node.</remarks>
public sealed class NodeLatencies
{
    private readonly double[,]? _delaySeconds;
    private readonly double[,]? _bandwidthBytesPerSecond;
    private readonly double[]? _hubDelaySeconds; // star form: node i to the hub (node 0) and back, one way each

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

    private NodeLatencies(string name, IReadOnlyList<string> nodeNames, double[] hubDelaySeconds)
    {
        Name = name;
        NodeNames = nodeNames;
        _hubDelaySeconds = hubDelaySeconds;
    }

    /// <summary>
    /// A star around node 0 with unlimited bandwidth: node <c>i</c> is <paramref name="hubDelaySeconds"/>[i] from node 0
    /// each way, two other nodes are the sum of their delays apart, a node is 0 from itself. O(n) memory where the
    /// matrices are O(n^2): what a live registry snapshot (client at the hub, servers at their round trips) needs per call.
    /// </summary>
    public static NodeLatencies Star(string name, IReadOnlyList<string> nodeNames, IReadOnlyList<double> hubDelaySeconds)
    {
        ArgumentNullException.ThrowIfNull(nodeNames);
        ArgumentNullException.ThrowIfNull(hubDelaySeconds);
        if (hubDelaySeconds.Count != nodeNames.Count || nodeNames.Count == 0)
        {
            throw new ArgumentException("one hub delay per node, at least one node", nameof(hubDelaySeconds));
        }

        var delays = hubDelaySeconds.ToArray();
        if (delays.Any(d => !(d >= 0) || double.IsPositiveInfinity(d)))
        {
            throw new ArgumentException("hub delays must be finite and >= 0", nameof(hubDelaySeconds));
        }

        delays[0] = 0;
        return new NodeLatencies(name, nodeNames, delays);
    }

    /// <summary>Where the numbers come from (topology name or preset).</summary>
    public string Name { get; }

    /// <summary>Node labels, by index.</summary>
    public IReadOnlyList<string> NodeNames { get; }

    /// <summary>Number of nodes.</summary>
    public int NodeCount => NodeNames.Count;

    /// <summary>One-way delay from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public double DelaySeconds(int from, int to)
    {
        if (_hubDelaySeconds is { } hub)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)from, (uint)hub.Length, nameof(from));
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)to, (uint)hub.Length, nameof(to));
            return from == to ? 0 : hub[from] + hub[to];
        }

        return _delaySeconds![from, to];
    }

    /// <summary>Round-trip time between two nodes: the delay there plus the delay back.</summary>
    public double RttSeconds(int a, int b) => DelaySeconds(a, b) + DelaySeconds(b, a);

    /// <summary>Bottleneck bandwidth from <paramref name="from"/> to <paramref name="to"/> (infinite on the same node of a graph).</summary>
    public double BandwidthBytesPerSecond(int from, int to)
    {
        if (_hubDelaySeconds is { } hub)
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)from, (uint)hub.Length, nameof(from));
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)to, (uint)hub.Length, nameof(to));
            return double.PositiveInfinity;
        }

        return _bandwidthBytesPerSecond![from, to];
    }
}
