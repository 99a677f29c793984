using Strata.Core.Network;

namespace Strata.Core.Tests.Network;

/// <summary>The star form answers exactly as the dense matrices of the same star would.</summary>
public sealed class NodeLatenciesStarTests
{
    [Fact]
    public void Star_answers_every_pair_as_the_dense_matrices_of_the_same_star()
    {
        var random = new Random(5);
        const int n = 9;
        var hub = Enumerable.Range(0, n).Select(i => i == 0 ? 0 : random.NextDouble() * 0.1).ToArray();
        var names = Enumerable.Range(0, n).Select(i => $"node-{i}").ToArray();
        var delays = new double[n, n];
        var bandwidths = new double[n, n];
        for (var a = 0; a < n; a++)
        {
            for (var b = 0; b < n; b++)
            {
                delays[a, b] = a == b ? 0 : hub[a] + hub[b];
                bandwidths[a, b] = double.PositiveInfinity;
            }
        }

        var dense = new NodeLatencies("dense", names, delays, bandwidths);
        var star = NodeLatencies.Star("star", names, hub);
        Assert.Equal(n, star.NodeCount);
        for (var a = 0; a < n; a++)
        {
            for (var b = 0; b < n; b++)
            {
                Assert.Equal(dense.DelaySeconds(a, b), star.DelaySeconds(a, b));
                Assert.Equal(dense.RttSeconds(a, b), star.RttSeconds(a, b));
                Assert.Equal(dense.BandwidthBytesPerSecond(a, b), star.BandwidthBytesPerSecond(a, b));
            }
        }
    }

    [Fact]
    public void Star_refuses_negative_or_mismatched_delays_and_out_of_range_nodes()
    {
        Assert.Throws<ArgumentException>(() => NodeLatencies.Star("s", ["a", "b"], [0]));
        Assert.Throws<ArgumentException>(() => NodeLatencies.Star("s", ["a", "b"], [0, -1]));
        Assert.Throws<ArgumentException>(() => NodeLatencies.Star("s", ["a", "b"], [0, double.NaN]));
        var star = NodeLatencies.Star("s", ["a", "b"], [0, 0.01]);
        Assert.Throws<ArgumentOutOfRangeException>(() => star.DelaySeconds(0, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => star.DelaySeconds(-1, 0));
    }
}
