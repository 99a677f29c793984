using Strata.Core.Placement;

namespace Strata.Planning.Live;

/// <summary>One hop of a live route.</summary>
/// <param name="Server">The server.</param>
/// <param name="Blocks">Blocks run there.</param>
public sealed record LiveHop(LiveServer Server, BlockRange Blocks);
