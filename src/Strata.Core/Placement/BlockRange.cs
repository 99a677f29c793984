namespace Strata.Core.Placement;

/// <summary>A contiguous range of transformer blocks, <c>[First, First + Count)</c>: the one block range of Strata.</summary>
/// <remarks>
/// Placement, routing, the swarm simulator and the runtime (route hops, sessions, the server registry) all describe
/// "which blocks" with this type; the wire formats keep their own first/end integers and convert at the boundary.
/// </remarks>
public readonly record struct BlockRange
{
    /// <summary>Creates a range; <paramref name="count"/> may be zero (an empty range).</summary>
    public BlockRange(int first, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(first);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        First = first;
        Count = count;
    }

    /// <summary>Index of the first block.</summary>
    public int First { get; }

    /// <summary>Number of blocks.</summary>
    public int Count { get; }

    /// <summary>One past the last block.</summary>
    public int End => First + Count;

    /// <summary>Whether the range holds no block.</summary>
    public bool IsEmpty => Count == 0;

    /// <summary>Whether <paramref name="block"/> lies in the range.</summary>
    public bool Contains(int block) => block >= First && block < End;

    /// <summary>Whether every block of <paramref name="other"/> lies in the range (an empty range lies in any).</summary>
    public bool Contains(BlockRange other) => other.Count == 0 || (other.First >= First && other.End <= End);

    /// <summary>Whether the two ranges share a block.</summary>
    public bool Overlaps(BlockRange other) => First < other.End && other.First < End;

    /// <summary>The blocks the two ranges share; empty (at the later start) when they share none.</summary>
    public BlockRange Intersect(BlockRange other)
    {
        var first = Math.Max(First, other.First);
        return new(first, Math.Max(0, Math.Min(End, other.End) - first));
    }

    /// <summary>The range <c>[first, end)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="first"/> is negative or <paramref name="end"/> is below it.</exception>
    public static BlockRange FromBounds(int first, int end)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(end, first);
        return new(first, end - first);
    }

    /// <summary>Every block of a model of <paramref name="layerCount"/> blocks.</summary>
    public static BlockRange All(int layerCount) => new(0, layerCount);

    /// <inheritdoc />
    public override string ToString() => Count == 0 ? "[]" : $"[{First}..{End})";
}
