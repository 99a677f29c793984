namespace Strata.Planning.Live;

/// <summary>One hop of a live route.</summary>
/// <param name="Server">The server.</param>
/// <param name="FirstBlock">First block run there.</param>
/// <param name="BlockCount">Blocks run there.</param>
public sealed record LiveHop(LiveServer Server, int FirstBlock, int BlockCount)
{
    /// <summary>One past the last block run there.</summary>
    public int EndBlock => FirstBlock + BlockCount;
}
