using Strata.Core.Placement;

namespace Strata.Planning.Swarm;

/// <summary>One hop of a request's path: the server and the blocks it runs for this request.</summary>
/// <param name="Server">Server index.</param>
/// <param name="Blocks">Blocks run there (<c>k_j</c> of them), each holding one cache slot for the session.</param>
public readonly record struct SwarmHop(int Server, BlockRange Blocks);
