namespace Strata.Core.Network;

/// <summary>A wide-area network: named nodes and directed edges with one-way delays and bandwidths.</summary>
/// <remarks>Immutable. Node indices are 0..<see cref="NodeCount"/>-1 in file order.</remarks>
public sealed class TopologyGraph
{
    /// <summary>Creates a graph; edges must name nodes that exist.</summary>
    public TopologyGraph(string name, IReadOnlyList<string> nodeNames, IReadOnlyList<TopologyEdge> edges)
    {
        ArgumentNullException.ThrowIfNull(nodeNames);
        ArgumentNullException.ThrowIfNull(edges);
        Name = name;
        NodeNames = nodeNames;
        Edges = edges;
        foreach (var edge in edges)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(edge.Source);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(edge.Source, nodeNames.Count);
            ArgumentOutOfRangeException.ThrowIfNegative(edge.Target);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(edge.Target, nodeNames.Count);
        }
    }

    /// <summary>The graph's name (file name or preset).</summary>
    public string Name { get; }

    /// <summary>Node labels, by index.</summary>
    public IReadOnlyList<string> NodeNames { get; }

    /// <summary>Directed edges.</summary>
    public IReadOnlyList<TopologyEdge> Edges { get; }

    /// <summary>Number of nodes.</summary>
    public int NodeCount => NodeNames.Count;

    /// <summary>One-way delay and bottleneck bandwidth between every pair of nodes along least-delay paths.</summary>
    /// <remarks>Dijkstra from every node: O(V (E + V) log V). The RTT between u and v is the delay u->v plus v->u.</remarks>
    /// <exception cref="StrataException">Some node cannot reach another.</exception>
    public NodeLatencies ShortestPathLatencies()
    {
        var n = NodeCount;
        var adjacency = new List<TopologyEdge>[n];
        for (var i = 0; i < n; i++)
        {
            adjacency[i] = [];
        }

        foreach (var edge in Edges)
        {
            adjacency[edge.Source].Add(edge);
        }

        var delay = new double[n, n];
        var bandwidth = new double[n, n];
        var distance = new double[n];
        var bottleneck = new double[n];
        var queue = new PriorityQueue<int, (double, int)>();
        for (var source = 0; source < n; source++)
        {
            Array.Fill(distance, double.PositiveInfinity);
            Array.Fill(bottleneck, 0);
            distance[source] = 0;
            bottleneck[source] = double.PositiveInfinity;
            queue.Enqueue(source, (0, source));
            while (queue.TryDequeue(out var node, out var priority))
            {
                if (priority.Item1 > distance[node])
                {
                    continue;
                }

                foreach (var edge in adjacency[node])
                {
                    var candidate = distance[node] + edge.DelaySeconds;
                    if (candidate < distance[edge.Target])
                    {
                        distance[edge.Target] = candidate;
                        bottleneck[edge.Target] = Math.Min(bottleneck[node], edge.BandwidthBytesPerSecond);
                        queue.Enqueue(edge.Target, (candidate, edge.Target));
                    }
                }
            }

            for (var target = 0; target < n; target++)
            {
                if (double.IsPositiveInfinity(distance[target]))
                {
                    throw new StrataException($"Topology '{Name}': node '{NodeNames[target]}' cannot be reached from node '{NodeNames[source]}'; expected a connected graph.");
                }

                delay[source, target] = distance[target];
                bandwidth[source, target] = target == source ? double.PositiveInfinity : bottleneck[target];
            }
        }

        return new NodeLatencies(Name, NodeNames, delay, bandwidth);
    }
}
