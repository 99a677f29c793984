using Strata.Core.Placement;

namespace Strata.Planning.Live;

/// <summary>What a client asks a route for: the blocks, the phase, the servers to avoid and the session's shape.</summary>
/// <param name="Blocks">Blocks to cover (at least one).</param>
/// <param name="Phase">Which pool serves (<see cref="ServerPhase.Both"/>: a whole generation).</param>
/// <param name="KvBytesPerBlock">KV bytes the session needs in each block (0: unknown, no server counts as full).</param>
/// <param name="PromptTokens">Prompt tokens of the session (at least 1).</param>
/// <param name="OutputTokens">Output tokens of the session, the first included (at least 1).</param>
public sealed record LiveRouteRequest(BlockRange Blocks, ServerPhase Phase, long KvBytesPerBlock, int PromptTokens, int OutputTokens)
{
    /// <summary>Server ids the client found dead or full.</summary>
    public IReadOnlySet<string> Excluded { get; init; } = new HashSet<string>(StringComparer.Ordinal);
}
