using Strata.Runtime.Engine;

namespace Strata.Runtime.Serving;

/// <summary>A block server's session: its KV caches, the lock every call that reads or changes them holds, and when it was last used.</summary>
internal sealed class ServerSession(InferenceSession session, long createdTimestamp)
{
    // Read and written with Volatile: calls touch it while the eviction timer reads it.
    public long LastUsedTimestamp = createdTimestamp;

    /// <summary>The session's KV caches.</summary>
    public InferenceSession Session { get; } = session;

    /// <summary>Held by whoever reads or changes the caches: forward steps, exports, imports, bulk sends and receives.</summary>
    public SemaphoreSlim Lock { get; } = new(1, 1);
}
