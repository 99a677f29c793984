namespace Strata.Runtime.Engine;

/// <summary>Something that runs every block of the model, in order, on hidden states: in-process, or a chain of block servers.</summary>
public interface IBlockChain
{
    /// <summary>The hops the chain runs through, in block order.</summary>
    IReadOnlyList<RouteHop> Route { get; }

    /// <summary>Opens a session: each hop keeps a KV cache for it until it is disposed.</summary>
    IBlockChainSession OpenSession();

    /// <summary>
    /// Opens a session that will hold at most <paramref name="expectedTokens"/> tokens (prompt plus output): a chain of
    /// servers that budget KV memory sizes each cache for them once. By default the same as <see cref="OpenSession()"/>.
    /// </summary>
    IBlockChainSession OpenSession(int expectedTokens) => OpenSession();
}
