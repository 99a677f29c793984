namespace Strata.Core.Placement;

/// <summary>A contiguous range of transformer blocks, <c>[First, First + Count)</c>.</summary>
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

    /// <summary>Whether <paramref name="block"/> lies in the range.</summary>
    public bool Contains(int block) => block >= First && block < End;

    /// <summary>Whether the two ranges share a block.</summary>
    public bool Overlaps(BlockRange other) => First < other.End && other.First < End;

    /// <summary>Every block of a model of <paramref name="layerCount"/> blocks.</summary>
    public static BlockRange All(int layerCount) => new(0, layerCount);

    /// <inheritdoc />
    public override string ToString() => Count == 0 ? "[]" : $"[{First}..{End})";
}
