namespace Strata.Runtime.Engine;

/// <summary>Something that runs every block of the model, in order, on hidden states: in-process, or a chain of block servers.</summary>
public interface IBlockChain
{
    /// <summary>The hops the chain runs through, in block order.</summary>
    IReadOnlyList<RouteHop> Route { get; }

    /// <summary>Opens a session: each hop keeps a KV cache for it until it is disposed.</summary>
    IBlockChainSession OpenSession();
}
