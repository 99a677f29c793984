using Strata.Core;
using Strata.Planning.Placement;
using Strata.Planning.Routing;
using Strata.Planning.Swarm;
using Strata.Planning.Tests.Swarm;

namespace Strata.Planning.Tests.Placement;

public sealed class PlacementTests
{
    [Fact]
    public void Cg_bp_never_exceeds_memory_for_its_sessions_and_covers_every_block()
    {
        for (var seed = 0; seed < 200; seed++)
        {
            var random = new Random(seed);
            var instance = TinySwarms.Random(seed, servers: random.Next(2, 12), layers: random.Next(2, 12), clients: 2);
            var max = ConservativeGreedyPlacement.MaxFeasibleConcurrency(instance);
            if (max == 0)
            {
                Assert.Throws<StrataException>(() => ConservativeGreedyPlacement.PlaceFor(instance, 1));
                continue;
            }

            var r = random.Next(1, max + 1);
            var result = ConservativeGreedyPlacement.PlaceFor(instance, r);
            var placement = result.Placement;
            Assert.True(placement.Covers(instance.LayerCount));
            for (var j = 0; j < placement.ServerCount; j++)
            {
                var m = placement.Blocks(j).Count;
                Assert.True((m * instance.Costs.BlockBytes) + (r * m * instance.SessionCacheBytesPerBlock) <= instance.Servers[j].Costs.MemoryBytes + 1e-6);
                Assert.True(placement.Blocks(j).End <= instance.LayerCount);
            }
        }
    }

    [Fact]
    public void Theorem_two_bound_holds_for_the_shortest_path_on_cg_bp()
    {
        var checkedCount = 0;
        for (var seed = 0; seed < 300; seed++)
        {
            var random = new Random(seed);
            var instance = TinySwarms.Random(seed, servers: random.Next(2, 10), layers: random.Next(2, 12), clients: 1);
            var max = ConservativeGreedyPlacement.MaxFeasibleConcurrency(instance);
            if (max == 0)
            {
                continue;
            }

            var result = ConservativeGreedyPlacement.PlaceFor(instance, random.Next(1, max + 1));
            var best = TinySwarms.AllPaths(instance, result.Placement).Min(p => TinySwarms.PerTokenSeconds(instance, 0, p));
            Assert.True(best <= result.BoundSecondsPerToken!.Value + 1e-9, $"seed {seed}: best path {best} s/token above the bound {result.BoundSecondsPerToken}");
            checkedCount++;
        }

        Assert.True(checkedCount > 100);
    }

    [Fact]
    public void Petals_placement_and_its_ablations_cover_every_block_within_memory()
    {
        for (var seed = 0; seed < 200; seed++)
        {
            var random = new Random(seed);
            var instance = TinySwarms.Random(seed, servers: random.Next(2, 12), layers: random.Next(2, 12), cacheBytesPerBlockPerToken: 0.1);
            foreach (var policy in new[] { new PetalsPlacement(), new PetalsPlacement(useConservativeCounts: true), new PetalsPlacement(useConservativeOrder: true) })
            {
                try
                {
                    var placement = policy.Place(instance, 0.1).Placement;
                    Assert.True(placement.Covers(instance.LayerCount));
                    for (var j = 0; j < placement.ServerCount; j++)
                    {
                        Assert.True(placement.Blocks(j).Count * instance.Costs.BlockBytes <= instance.Servers[j].Costs.MemoryBytes);
                    }
                }
                catch (StrataException exception)
                {
                    Assert.Contains("cannot cover", exception.Message, StringComparison.Ordinal);
                }
            }
        }
    }

    [Fact]
    public void The_weakest_window_raises_the_least_served_blocks_first()
    {
        Assert.Equal(2, PetalsPlacement.WeakestWindow([5, 5, 0, 0, 1], 2));
        Assert.Equal(3, PetalsPlacement.WeakestWindow([5, 5, 1, 0, 0], 2));
        Assert.Equal(0, PetalsPlacement.WeakestWindow([0, 0, 0], 3));
    }

    [Fact]
    public void The_paper_preset_gives_petals_and_cg_bp_their_published_block_counts_shape()
    {
        var costs = SwarmCostPresets.Bloom176bPaper();
        var instance = SwarmLayout.Build(costs, Core.Network.ClusteredTopology.Create(), true, SwarmLayout.Mix(9, 0.2, SwarmCostPresets.A100, SwarmCostPresets.Mig, 0), 1, 20, 64, 0);
        var petals = PetalsPlacement.BlockCounts(instance);
        Assert.Equal(2, instance.Servers.Count(s => s.Costs.DeviceId == SwarmCostPresets.A100));
        // PETALS' rule: (total - 2 GiB autograd reserve) / (1.32 GB + 4,096 x 57,344 B of cache):
        // (80 - 2) GiB / 1.5549 GB = 53.9 -> 53 on an A100, (10 - 2) GiB / 1.5549 GB = 5.5 -> 5 on a MIG slice.
        Assert.Equal(53, petals.Max());
        Assert.Equal(5, petals.Min());
        // The paper's scripts' cap (opt-in artefact): 4 on a MIG slice, the A100 unchanged.
        var capped = PetalsPlacement.BlockCounts(instance.WithServers([.. instance.Servers.Select(s => s with { Costs = s.Costs with { PetalsBlockCap = s.Costs.DeviceId == SwarmCostPresets.Mig ? 4 : null } })]));
        Assert.Equal((53, 4), (capped.Max(), capped.Min()));
        var cgbp = ConservativeGreedyPlacement.PlaceFor(instance, 10);
        Assert.True(cgbp.BoundSecondsPerToken > 0);
    }

    [Fact]
    public void A_swarm_too_small_for_the_model_is_a_clear_error()
    {
        var costs = SwarmCostPresets.Bloom176bPaper();
        var instance = SwarmLayout.Build(costs, Core.Network.ClusteredTopology.Create(), true, [SwarmCostPresets.Mig, SwarmCostPresets.Mig], 1, 20, 64, 0);
        var error = Assert.Throws<StrataException>(() => new ConservativeGreedyPlacement().Place(instance, 0.1));
        Assert.Contains("cannot cover", error.Message, StringComparison.Ordinal);
        Assert.Throws<StrataException>(() => new PetalsPlacement().Place(instance, 0.1));
    }

    [Fact]
    public void Placement_is_the_same_for_the_same_inputs()
    {
        var instance = SwarmLayout.Build(SwarmCostPresets.Bloom176bPaper(), Core.Network.BuiltInTopologies.Load("gtsce").ShortestPathLatencies(), false,
            SwarmLayout.Mix(26, 0.2, SwarmCostPresets.A100, SwarmCostPresets.Mig, 4), 3, 20, 128, 4);
        foreach (var name in new[] { "petals", "cg-bp", "petals-cgbp-counts", "petals-cgbp-order" })
        {
            var a = PlacementPolicies.Create(name).Place(instance, 0.2).Placement;
            var b = PlacementPolicies.Create(name).Place(instance, 0.2).Placement;
            Assert.Equal(Enumerable.Range(0, 26).Select(a.Blocks), Enumerable.Range(0, 26).Select(b.Blocks));
        }
    }

    [Fact]
    public void Ws_rr_cost_includes_the_wait_for_slots()
    {
        var instance = TinySwarms.Random(1, 3, 4);
        var placement = new SwarmPlacement([0, 0, 2], [4, 2, 2]);
        var idle = new WaitingShortestPathRouting().Route(instance, placement, 0, TinySwarms.Idle, 0)!;
        var busy = new WaitingShortestPathRouting().Route(instance, placement, 0, new FixedWait(100), 0)!;
        Assert.Equal(0, idle.ExpectedWaitSeconds);
        Assert.Equal(100, busy.ExpectedWaitSeconds, 9);
        Assert.True(busy.CostSeconds >= idle.CostSeconds + 100);
    }

    private sealed class FixedWait(double seconds) : ISwarmLoad
    {
        public bool IsAlive(int server) => true;

        public int FreeSlots(int server) => 0;

        public double SlotsFreeAtSeconds(int server, int slots, double nowSeconds) => nowSeconds + seconds;
    }
}
