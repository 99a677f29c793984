namespace Strata.Core.Placement;

/// <summary>The chain of servers one request runs through, each running a contiguous part of the model.</summary>
public sealed record Route(IReadOnlyList<ServerBlocks> Hops)
{
    /// <summary>Whether the hops run blocks <c>0..layerCount-1</c> in order, each exactly once.</summary>
    public bool IsComplete(int layerCount)
    {
        var next = 0;
        foreach (var hop in Hops)
        {
            if (hop.Blocks.First != next || hop.Blocks.Count == 0)
            {
                return false;
            }

            next = hop.Blocks.End;
        }

        return next == layerCount;
    }
}
