using Grpc.Core;
using Strata.Runtime.Engine;

namespace Strata.Runtime.Serving;

/// <summary>A block server's session: its KV caches, the lock every call that reads or changes them holds, and when it was last used.</summary>
internal sealed class ServerSession(InferenceSession session, long createdTimestamp, string client)
{
    // Read and written with Volatile: calls touch it while the eviction timer reads it.
    public long LastUsedTimestamp = createdTimestamp;

    // Bytes the running step's cache will hold when it ends (0 between steps); read with Volatile by the KV accounting.
    private long _stepTargetKvBytes;

    /// <summary>
    /// What the session counts against the KV budget: its caches' arrays (real capacity, not just the cached tokens), or
    /// during a step the larger of those and the capacity the step was admitted to grow them to (so a reservation and
    /// the arrays filling it are never counted twice).
    /// </summary>
    public long AccountedKvBytes => Math.Max(Session.KvCapacityBytes, Volatile.Read(ref _stepTargetKvBytes));

    /// <summary>Who opened the session (the peer's address without its port): the key of the per-client session quota.</summary>
    public string Client { get; } = client;

    /// <summary>Sets (under the server's admission lock) or clears (0) the size the running step may grow the cache to.</summary>
    public void SetStepTarget(long kvBytes) => Volatile.Write(ref _stepTargetKvBytes, kvBytes);

    /// <summary>The session's KV caches.</summary>
    public InferenceSession Session { get; } = session;

    /// <summary>Held by whoever reads or changes the caches: forward steps, exports, imports, bulk sends and receives.</summary>
    public SemaphoreSlim Lock { get; } = new(1, 1);

    /// <summary>
    /// Set under <see cref="Lock"/> when the session is removed and its memory released: a call that got the session before
    /// its removal and takes the lock after it must not run on (or allocate into) a session nobody can reach.
    /// </summary>
    public bool Removed { get; set; }

    /// <summary>Takes <see cref="Lock"/>; ABORTED (and the lock let go) when the session was removed meanwhile.</summary>
    public async Task EnterAsync(string sessionId, CancellationToken cancellationToken)
    {
        await Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        if (Removed)
        {
            Lock.Release();
            throw new RpcException(new Status(StatusCode.Aborted,
                $"Session '{sessionId}' was closed or timed out while this call waited for it; open it again and replay."));
        }
    }
}
