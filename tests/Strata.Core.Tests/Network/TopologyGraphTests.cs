using Strata.Core.Network;

namespace Strata.Core.Tests.Network;

public sealed class TopologyGraphTests
{
    [Theory]
    [InlineData("abvt", 23)]
    [InlineData("bellcanada", 48)]
    [InlineData("gtsce", 149)]
    [InlineData("AboveNet", 23)]
    public void Built_in_topologies_load_with_their_node_counts(string name, int nodes) =>
        Assert.Equal(nodes, BuiltInTopologies.Load(name).NodeCount);

    [Theory]
    [InlineData("abvt")]
    [InlineData("bellcanada")]
    [InlineData("gtsce")]
    public void Rtts_are_symmetric_zero_on_the_diagonal_and_obey_the_triangle_inequality(string name)
    {
        var latencies = BuiltInTopologies.Load(name).ShortestPathLatencies();
        var n = latencies.NodeCount;
        for (var u = 0; u < n; u++)
        {
            Assert.Equal(0, latencies.RttSeconds(u, u));
            for (var v = 0; v < n; v++)
            {
                Assert.Equal(latencies.RttSeconds(u, v), latencies.RttSeconds(v, u), 12);
                for (var w = 0; w < n; w += 7)
                {
                    Assert.True(latencies.DelaySeconds(u, v) <= latencies.DelaySeconds(u, w) + latencies.DelaySeconds(w, v) + 1e-12);
                }
            }
        }
    }

    [Fact]
    public void Shortest_path_delays_match_floyd_warshall()
    {
        var graph = BuiltInTopologies.Load("bellcanada");
        var n = graph.NodeCount;
        var d = new double[n, n];
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                d[i, j] = i == j ? 0 : double.PositiveInfinity;
            }
        }

        foreach (var e in graph.Edges)
        {
            d[e.Source, e.Target] = Math.Min(d[e.Source, e.Target], e.DelaySeconds);
        }

        for (var k = 0; k < n; k++)
        {
            for (var i = 0; i < n; i++)
            {
                for (var j = 0; j < n; j++)
                {
                    d[i, j] = Math.Min(d[i, j], d[i, k] + d[k, j]);
                }
            }
        }

        var latencies = graph.ShortestPathLatencies();
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                Assert.Equal(d[i, j], latencies.DelaySeconds(i, j), 12);
            }
        }
    }

    [Fact]
    public void The_clustered_preset_is_fast_inside_and_slow_between()
    {
        var clustered = ClusteredTopology.Create();
        Assert.Equal(0.010, clustered.RttSeconds(1, 1), 12);
        Assert.Equal(0.200, clustered.RttSeconds(0, 2), 12);
    }

    [Theory]
    [InlineData("NODES 2\nlabel x y\n0_A 0 0\n1_B 0 0\nEDGES 1\nlabel src dest weight bw delay\nedge_0 0 5 1 1000 10\n", "line 7", "dest")]
    [InlineData("NODES 2\nlabel x y\n0_A 0 0\n1_B 0 0\nEDGES 1\nlabel src dest weight bw delay\nedge_0 0 1 1 1000\n", "line 7", "5 fields")]
    [InlineData("NODES 2\nlabel x y\n0_A 0 0\n2_B 0 0\nEDGES 1\nlabel src dest weight bw delay\nedge_0 0 1 1 1000 10\n", "line 4", "index 1")]
    [InlineData("NODES x\n", "line 1", "NODES n")]
    [InlineData("NODES 2\nlabel x y\n0_A 0 0\n1_B 0 0\nEDGES 1\nlabel src dest weight bw delay\nedge_0 0 1 1 -3 10\n", "line 7", "bw")]
    public void A_bad_line_is_one_clear_error_naming_the_line(string text, string line, string detail)
    {
        var error = Assert.Throws<StrataException>(() => TopologyGraphReader.Parse(text, "bad.graph", "bad"));
        Assert.Contains("bad.graph", error.Message, StringComparison.Ordinal);
        Assert.Contains(line, error.Message, StringComparison.Ordinal);
        Assert.Contains(detail, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_disconnected_graph_is_reported()
    {
        var graph = TopologyGraphReader.Parse("NODES 2\nlabel x y\n0_A 0 0\n1_B 0 0\nEDGES 1\nlabel src dest weight bw delay\nedge_0 0 1 1 1000 10\n", "one-way.graph", "one-way");
        Assert.Throws<StrataException>(graph.ShortestPathLatencies);
    }

    [Fact]
    public void Node_assignment_is_the_same_for_the_same_seed()
    {
        Assert.Equal(NodeAssignment.Uniform(149, 26, 5), NodeAssignment.Uniform(149, 26, 5));
        Assert.NotEqual(NodeAssignment.Uniform(149, 26, 5), NodeAssignment.Uniform(149, 26, 6));
    }
}
