using Strata.Core.Identity;
using Strata.Core.Placement;

namespace Strata.Core.Tests.Placement;

public sealed class BlockRangeTests
{
    [Fact]
    public void A_range_contains_its_blocks_and_not_its_end()
    {
        var range = new BlockRange(10, 5);
        Assert.Equal(15, range.End);
        Assert.True(range.Contains(10));
        Assert.True(range.Contains(14));
        Assert.False(range.Contains(15));
        Assert.True(range.Overlaps(new BlockRange(14, 3)));
        Assert.False(range.Overlaps(new BlockRange(15, 3)));
    }

    [Fact]
    public void Negative_bounds_are_rejected() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new BlockRange(-1, 2));

    [Fact]
    public void A_route_is_complete_when_its_hops_chain_every_block_once()
    {
        var complete = new Route([new ServerBlocks(new ServerId(0), new BlockRange(0, 4)), new ServerBlocks(new ServerId(1), new BlockRange(4, 6))]);
        var gap = new Route([new ServerBlocks(new ServerId(0), new BlockRange(0, 4)), new ServerBlocks(new ServerId(1), new BlockRange(5, 5))]);
        Assert.True(complete.IsComplete(10));
        Assert.False(gap.IsComplete(10));
        Assert.False(complete.IsComplete(11));
    }

    [Fact]
    public void A_placement_counts_replicas_per_block()
    {
        var placement = new BlockPlacement([new ServerBlocks(new ServerId(0), new BlockRange(0, 6)), new ServerBlocks(new ServerId(1), new BlockRange(4, 6))]);
        Assert.Equal([1, 1, 1, 1, 2, 2, 1, 1, 1, 1], placement.ReplicasPerBlock(10));
        Assert.True(placement.Covers(10));
        Assert.False(placement.Covers(11));
    }
}
