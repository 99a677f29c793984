using Strata.Planning.Routing;
using Strata.Planning.Swarm;
using Strata.Planning.Tests.Swarm;

namespace Strata.Planning.Tests.Routing;

public sealed class HopGraphTests
{
    [Theory]
    [InlineData(ForwardingMode.HubAndSpoke)]
    [InlineData(ForwardingMode.Direct)]
    public void Shortest_path_matches_brute_force_enumeration_of_every_path(ForwardingMode forwarding)
    {
        var checkedPaths = 0;
        for (var seed = 0; seed < 300; seed++)
        {
            var random = new Random(seed);
            var instance = TinySwarms.Random(seed, servers: random.Next(2, 7), layers: random.Next(2, 9), clients: 2, forwarding);
            var placement = TinySwarms.RandomPlacement(instance, random);
            var firstBlock = random.Next(0, 2) == 0 ? 0 : random.Next(0, instance.LayerCount);
            for (var client = 0; client < 2; client++)
            {
                var paths = TinySwarms.AllPaths(instance, placement, firstBlock);
                var route = new ShortestPathRouting().Route(instance, placement, client, TinySwarms.Idle, 0, firstBlock);
                if (paths.Count == 0)
                {
                    Assert.Null(route);
                    continue;
                }

                Assert.NotNull(route);
                var best = paths.Min(p => TinySwarms.PathSeconds(instance, client, p));
                Assert.Equal(best, route.CostSeconds, 9);
                Assert.Equal(best, TinySwarms.PathSeconds(instance, client, route.Hops), 9);
                Assert.Equal(firstBlock, route.Hops[0].Blocks.First);
                Assert.Equal(instance.LayerCount, route.Hops[^1].Blocks.End);
                checkedPaths++;
            }
        }

        Assert.True(checkedPaths > 100, $"only {checkedPaths} instances had a path");
    }

    [Fact]
    public void Hops_chain_every_block_exactly_once()
    {
        for (var seed = 0; seed < 100; seed++)
        {
            var random = new Random(seed);
            var instance = TinySwarms.Random(seed, servers: 5, layers: 8);
            var placement = TinySwarms.RandomPlacement(instance, random);
            foreach (var routing in new IRoutingPolicy[] { new ShortestPathRouting(), new WaitingShortestPathRouting(), new PetalsRouting() })
            {
                if (routing.Route(instance, placement, 0, TinySwarms.Idle, 0) is { } route)
                {
                    var next = 0;
                    foreach (var hop in route.Hops)
                    {
                        Assert.Equal(next, hop.Blocks.First);
                        Assert.InRange(hop.Blocks.First, placement.Blocks(hop.Server).First, placement.Blocks(hop.Server).End - 1);
                        Assert.Equal(placement.Blocks(hop.Server).End, hop.Blocks.End);
                        next = hop.Blocks.End;
                    }

                    Assert.Equal(instance.LayerCount, next);
                }
            }
        }
    }
}
