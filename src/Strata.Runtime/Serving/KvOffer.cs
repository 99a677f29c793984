using Strata.Runtime.Protocol;

namespace Strata.Runtime.Serving;

/// <summary>A registered bulk KV ticket: whose caches it sends, which blocks with how many tokens, and when it was issued.</summary>
/// <param name="Session">The source session; its lock is held while its bytes are sent.</param>
/// <param name="Blocks">The manifest, in sending order.</param>
/// <param name="IssuedTimestamp">When the ticket was issued, on the server's <see cref="TimeProvider"/>.</param>
internal sealed record KvOffer(ServerSession Session, IReadOnlyList<KvManifestEntry> Blocks, long IssuedTimestamp);
