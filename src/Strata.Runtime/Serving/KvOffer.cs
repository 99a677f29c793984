using Strata.Runtime.Protocol;

namespace Strata.Runtime.Serving;

/// <summary>A registered bulk KV ticket: whose caches it sends, which blocks with how many tokens, and when it was issued.</summary>
/// <param name="Session">The source session; its lock is held while its bytes are sent (unless <paramref name="Copies"/> are sent instead).</param>
/// <param name="Blocks">The manifest, in sending order.</param>
/// <param name="IssuedTimestamp">When the ticket was issued, on the server's <see cref="TimeProvider"/>.</param>
/// <param name="Copies">
/// Keys and values of each manifest block copied when the offer was made (a block offered as it finished during a
/// streamed forward step): sent without the session's lock, so the move runs while the session computes on.
/// </param>
internal sealed record KvOffer(ServerSession Session, IReadOnlyList<KvManifestEntry> Blocks, long IssuedTimestamp, IReadOnlyList<(float[] Keys, float[] Values)>? Copies = null)
{
    /// <summary>Bytes sent after the preamble: every manifest block's keys and values.</summary>
    public long TotalBytes { get; } = Blocks.Sum(block => Engine.BlockKvCache.BytesFor(block.TokenCount, block.KeyValueDimension));

    /// <summary>Bytes held by <see cref="Copies"/> (0 when the live caches are sent).</summary>
    public long CopiedBytes => Copies is null ? 0 : TotalBytes;
}
