namespace Strata.Planning.Swarm;

/// <summary>One hop of a request's path: the server and the blocks it runs for this request.</summary>
/// <param name="Server">Server index.</param>
/// <param name="FirstBlock">First block run there.</param>
/// <param name="BlockCount">Blocks run there (<c>k_j</c>), each holding one cache slot for the session.</param>
public readonly record struct SwarmHop(int Server, int FirstBlock, int BlockCount)
{
    /// <summary>One past the last block run there.</summary>
    public int EndBlock => FirstBlock + BlockCount;
}
