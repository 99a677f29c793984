namespace Strata.Core.Network;

/// <summary>Puts machines on network nodes from a seed.</summary>
public static class NodeAssignment
{
    /// <summary><paramref name="count"/> nodes drawn uniformly (with repetition) from <c>0..nodeCount-1</c>.</summary>
    /// <remarks>Same seed, same nodes: <see cref="Random(int)"/> with a fixed seed is deterministic across runs and platforms.</remarks>
    public static int[] Uniform(int nodeCount, int count, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nodeCount);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var random = new Random(seed);
        var nodes = new int[count];
        for (var i = 0; i < count; i++)
        {
            nodes[i] = random.Next(nodeCount);
        }

        return nodes;
    }

    /// <summary>A seeded Fisher-Yates shuffle of <paramref name="items"/> (a new array).</summary>
    public static T[] Shuffle<T>(IReadOnlyList<T> items, int seed)
    {
        ArgumentNullException.ThrowIfNull(items);
        var random = new Random(seed);
        var result = items.ToArray();
        for (var i = result.Length - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (result[i], result[j]) = (result[j], result[i]);
        }

        return result;
    }
}
