using Strata.Core.Placement;
using Strata.Runtime.Coordination;
using Strata.Runtime.Protocol;

namespace Strata.Runtime.Tests.Coordination;

public sealed class PlacementAdvisorTests
{
    private const double Tau = 1e-3;

    private static RegisteredServer Server(string id, int first, int count, int layers = 12) =>
        new(id, new Uri($"http://127.0.0.1:{50000 + first}"), "m", layers, new BlockRange(first, count), ServerRole.Both, 1 << 20, 0, 0, 0);

    [Fact]
    public void An_auto_server_placed_before_a_fixed_one_moves_to_the_window_that_closes_the_gap()
    {
        // README's recipe when the --auto server (8 of 12 blocks) registered first and took [0, 8); --blocks 0:6 came next.
        RegisteredServer[] servers = [Server("auto", 0, 8), Server("fixed", 0, 6)];
        Assert.Equal([8, 9, 10, 11], PlacementAdvisor.Uncovered(servers.Select(s => s.Blocks), BlockRange.All(12)));

        Assert.Equal(new BlockRange(4, 8), PlacementAdvisor.Rebalance(servers, "auto", 12, Tau));
        Assert.Null(PlacementAdvisor.Rebalance([Server("auto", 4, 8), Server("fixed", 0, 6)], "auto", 12, Tau)); // covered now: it stays
    }

    [Fact]
    public void A_server_that_alone_covers_its_blocks_stays()
    {
        // Without "b" the blocks 6-11 are uncovered: its own window is the weakest.
        RegisteredServer[] servers = [Server("a", 0, 6), Server("b", 6, 6), Server("c", 0, 3)];
        Assert.Null(PlacementAdvisor.Rebalance(servers, "b", 12, Tau));
    }

    [Fact]
    public void A_server_moves_toward_a_larger_gap_only_when_it_covers_more_blocks_there()
    {
        // Blocks 4-11 uncovered; "x" (4 blocks) on [0, 4) duplicates "a" and covers nothing of its own.
        RegisteredServer[] servers = [Server("a", 0, 4), Server("x", 0, 4)];
        var move = PlacementAdvisor.Rebalance(servers, "x", 12, Tau);
        Assert.NotNull(move);
        Assert.True(move.Value.First >= 4, $"expected a window inside the gap 4-11, got {move}");

        // "y" covers 8-11 alone; the weakest window without it is 4-7, but moving there uncovers 8-11: as many gaps, it stays.
        Assert.Null(PlacementAdvisor.Rebalance([Server("a", 0, 4), Server("y", 8, 4)], "y", 12, Tau));
    }

    [Fact]
    public void In_a_covered_swarm_a_server_moves_only_when_the_weakest_block_gains_past_the_balance_quality()
    {
        // Throughputs per block: a (4 blocks) 400/s each, b and c (2 blocks) 667/s each.
        // c on [0, 2) with b: [1733, 1733, 400, 400]; moved to [2, 4): [1067, 1067, 1067, 1067]: the minimum rises 2.7x.
        Assert.Equal(new BlockRange(2, 2), PlacementAdvisor.Rebalance([Server("a", 0, 4, 4), Server("b", 0, 2, 4), Server("c", 0, 2, 4)], "c", 4, Tau));

        // b alone on [1, 3): moving to [0, 2) keeps the minimum at a's 400/s: no gain, no move (hysteresis).
        Assert.Null(PlacementAdvisor.Rebalance([Server("a", 0, 4, 4), Server("b", 1, 2, 4)], "b", 4, Tau));

        // A quality of 1 (move on any gain) against one that never moves for this gain.
        RegisteredServer[] skewed = [Server("a", 0, 4, 4), Server("b", 0, 2, 4), Server("c", 1, 2, 4)];
        Assert.NotNull(PlacementAdvisor.Rebalance(skewed, "c", 4, Tau, balanceQuality: 1.0));
        Assert.Null(PlacementAdvisor.Rebalance(skewed, "c", 4, Tau, balanceQuality: 0.1));
    }

    [Fact]
    public void An_unknown_server_never_moves()
    {
        Assert.Null(PlacementAdvisor.Rebalance([Server("a", 0, 6)], "ghost", 12, Tau));
    }

    [Fact]
    public void Block_lists_are_described_as_runs()
    {
        Assert.Equal("3-5, 9", PlacementAdvisor.DescribeBlocks([3, 4, 5, 9]));
        Assert.Equal("0", PlacementAdvisor.DescribeBlocks([0]));
        Assert.Equal(string.Empty, PlacementAdvisor.DescribeBlocks([]));
        Assert.Equal([2, 3, 4], PlacementAdvisor.Uncovered([new BlockRange(0, 2), new BlockRange(5, 1)], BlockRange.FromBounds(1, 5)));
    }
}
