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
    public void Bounds_and_counts_describe_the_same_range()
    {
        Assert.Equal(new BlockRange(3, 4), BlockRange.FromBounds(3, 7));
        Assert.True(BlockRange.FromBounds(5, 5).IsEmpty);
        Assert.Throws<ArgumentOutOfRangeException>(() => BlockRange.FromBounds(5, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => BlockRange.FromBounds(-1, 4));
    }

    [Fact]
    public void An_intersection_keeps_the_shared_blocks_and_is_empty_when_there_are_none()
    {
        var range = new BlockRange(10, 5);
        Assert.Equal(new BlockRange(12, 3), range.Intersect(new BlockRange(12, 8)));
        Assert.Equal(range, range.Intersect(BlockRange.All(100)));
        Assert.True(range.Intersect(new BlockRange(15, 3)).IsEmpty);
        Assert.True(range.Intersect(new BlockRange(0, 3)).IsEmpty);
        for (var first = 0; first < 20; first++)
        {
            for (var count = 0; count < 20; count++)
            {
                var other = new BlockRange(first, count);
                var shared = range.Intersect(other);
                Assert.Equal(Enumerable.Range(0, 40).Count(b => range.Contains(b) && other.Contains(b)), shared.Count);
                Assert.Equal(!shared.IsEmpty, count > 0 && range.Overlaps(other));
                Assert.True(range.Contains(shared) && other.Contains(shared), $"{range} and {other} gave {shared}");
            }
        }
    }

    [Fact]
    public void A_range_contains_the_ranges_inside_it()
    {
        var range = new BlockRange(10, 5);
        Assert.True(range.Contains(new BlockRange(10, 5)));
        Assert.True(range.Contains(new BlockRange(11, 2)));
        Assert.True(range.Contains(new BlockRange(0, 0)));
        Assert.False(range.Contains(new BlockRange(9, 2)));
        Assert.False(range.Contains(new BlockRange(14, 2)));
    }
}
