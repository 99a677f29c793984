using Strata.Core.Identity;

namespace Strata.Core.Placement;

/// <summary>One server and the block range it hosts (in a placement) or runs (in a route).</summary>
/// <param name="Server">The server.</param>
/// <param name="Blocks">Its blocks.</param>
public readonly record struct ServerBlocks(ServerId Server, BlockRange Blocks);
