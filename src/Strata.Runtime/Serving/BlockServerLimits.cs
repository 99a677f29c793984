using System.Net;

namespace Strata.Runtime.Serving;

/// <summary>What one block server accepts: bounds that keep a bad or hostile client from exhausting it.</summary>
public sealed record BlockServerLimits
{
    /// <summary>Largest gRPC message in either direction, bytes. Default 64 MiB (a 4,096-token prompt of width 4,096 in fp32).</summary>
    public int MaxMessageBytes { get; init; } = 64 << 20;

    /// <summary>
    /// Largest chunk of a KV export, bytes of keys and values together (a block's cache is sent as whole tokens in
    /// chunks of at most this size, at least one token each). Default 1 MiB: small enough for HTTP/2 flow control to
    /// pipeline the move, large enough that per-message costs vanish. Capped at <see cref="MaxMessageBytes"/> less 4 KiB.
    /// </summary>
    public int KvChunkBytes { get; init; } = 128 << 10;

    /// <summary>Most tokens one forward call may carry. Default 4,096.</summary>
    public int MaxTokensPerCall { get; init; } = 4096;

    /// <summary>Most sessions held at once; a new one beyond it is refused with RESOURCE_EXHAUSTED. Default 256.</summary>
    public int MaxSessions { get; init; } = 256;

    /// <summary>
    /// Most sessions one client (one peer host, whatever its port or connection) may hold at once; a new one beyond it is
    /// refused with RESOURCE_EXHAUSTED, so that no single client can take every session slot or, by never closing them,
    /// the whole KV budget until the idle timeout. Default null: no quota beyond <see cref="MaxSessions"/>, because a
    /// gateway or relay is one client on behalf of many users; set it where clients connect directly.
    /// </summary>
    public int? MaxSessionsPerClient { get; init; }

    /// <summary>Most KV-cache bytes held across all sessions; a step that would pass it is refused with RESOURCE_EXHAUSTED. Default 1 GiB.</summary>
    public long MaxKvBytes { get; init; } = 1L << 30;

    /// <summary>
    /// Most bytes of idle KV arrays the server keeps for reuse: a closed or timed-out session's cache memory goes to a
    /// pool from which later sessions take theirs, so that they write into memory already mapped instead of faulting
    /// in new pages. Default null: <see cref="MaxKvBytes"/>, so idle pooled memory never passes what admission already
    /// allows to be live. 0 keeps nothing (every session allocates afresh). Admission counts cached tokens, never the pool.
    /// </summary>
    public long? KvPoolBytes { get; init; }

    /// <summary>
    /// A session unused for this long (no step, export or import) is dropped and its KV memory goes to the pool; a timer
    /// sweeps every quarter of it (between 1 and 30 s). A client that vanished without closing its sessions holds their
    /// memory at most this long plus one sweep. Default 5 minutes; range positive.
    /// </summary>
    public TimeSpan SessionIdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Whether the server opens a raw-TCP bulk KV path beside gRPC (<c>OfferKv</c> / <c>PullKv</c>). Default true;
    /// false answers both calls UNIMPLEMENTED, so clients fall back to <c>ExportKv</c> / <c>ImportKv</c>.
    /// </summary>
    public bool BulkKvEnabled { get; init; } = true;

    /// <summary>How long a bulk KV ticket stays valid after <c>OfferKv</c>, and the longest a send under it may run. Default 30 s.</summary>
    public TimeSpan KvOfferLifetime { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Most bulk KV tickets outstanding at once; an offer beyond it is refused with RESOURCE_EXHAUSTED. Default 64.</summary>
    public int MaxKvOffers { get; init; } = 64;

    /// <summary>Most bulk KV connections served at once; a connection beyond it is closed unanswered. Default 4.</summary>
    public int MaxBulkKvConnections { get; init; } = 4;

    /// <summary>
    /// Longest a bulk KV connection may stall: the source's wait for the ticket after accepting, and any one send or
    /// receive that makes no progress, on either side. Default 5 s.
    /// </summary>
    public TimeSpan BulkKvStallTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Non-loopback source addresses this server may pull KV caches from besides loopback and the hosts of the live servers
    /// its coordinator lists (<see cref="BlockServerHost.TrustKvSources"/>). Default none: the swarm's membership is the list,
    /// so that <c>PullKv</c> cannot make a server connect anywhere else.
    /// </summary>
    public IReadOnlyList<IPAddress> TrustedKvSources { get; init; } = [];

    /// <summary>
    /// Delay added to every reply (and to the start of every bulk KV send) to emulate a wide-area link on one machine:
    /// the client then sees a round trip this much longer than loopback's, as it would over a WAN. Default none; at most 10 s.
    /// </summary>
    public TimeSpan EmulatedRtt { get; init; }

    /// <summary>
    /// Most sessions' decode tokens (one-token forward calls) run as one batched step, one pass over the weights for all
    /// of them (see <see cref="Engine.DecodeBatcher"/>). Default 16; range 1 to 1,024; 1 runs every call on its own.
    /// Prefill calls (several tokens) and streaming calls always run on their own.
    /// </summary>
    public int MaxDecodeBatch { get; init; } = new Engine.DecodeBatchOptions().MaxBatch;

    /// <summary>
    /// Longest the first decode token of a batched step waits for other sessions' tokens; a full batch runs at once.
    /// Default 2 ms; range 0 (batch only what is already queued) to 1 s.
    /// </summary>
    public TimeSpan DecodeBatchWait { get; init; } = new Engine.DecodeBatchOptions().BatchWait;

    /// <summary>
    /// Longest a batched decode step waits for the sessions of recent steps predicted back soon (and at most half the
    /// last step's run time; see <see cref="Engine.DecodeBatchOptions.MaxReturnWait"/>). Default 20 ms; range 0 (only
    /// <see cref="DecodeBatchWait"/>) to 1 s.
    /// </summary>
    public TimeSpan DecodeReturnWait { get; init; } = new Engine.DecodeBatchOptions().MaxReturnWait;

    /// <summary>Checks the ranges.</summary>
    public BlockServerLimits Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(EmulatedRtt, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(EmulatedRtt, TimeSpan.FromSeconds(10));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxMessageBytes, 1 << 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(KvChunkBytes, 1 << 12);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxTokensPerCall);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxSessions);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxKvBytes);
        if (MaxSessionsPerClient is { } perClient)
        {
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(perClient, nameof(MaxSessionsPerClient));
        }

        if (KvPoolBytes is { } poolBytes)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(poolBytes, nameof(KvPoolBytes));
        }

        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(SessionIdleTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(KvOfferLifetime, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(KvOfferLifetime, TimeSpan.FromDays(1));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxKvOffers);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxBulkKvConnections);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(BulkKvStallTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(BulkKvStallTimeout, TimeSpan.FromDays(1));
        ArgumentNullException.ThrowIfNull(TrustedKvSources);
        _ = new Engine.DecodeBatchOptions { MaxBatch = MaxDecodeBatch, BatchWait = DecodeBatchWait, MaxReturnWait = DecodeReturnWait }.Validate();
        return this;
    }
}
