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

    /// <summary>Most KV-cache bytes held across all sessions; a step that would pass it is refused with RESOURCE_EXHAUSTED. Default 1 GiB.</summary>
    public long MaxKvBytes { get; init; } = 1L << 30;

    /// <summary>A session unused for this long is dropped and its KV memory freed. Default 5 minutes.</summary>
    public TimeSpan SessionIdleTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Checks the ranges.</summary>
    public BlockServerLimits Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxMessageBytes, 1 << 16);
        ArgumentOutOfRangeException.ThrowIfLessThan(KvChunkBytes, 1 << 12);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxTokensPerCall);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxSessions);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(MaxKvBytes);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(SessionIdleTimeout, TimeSpan.Zero);
        return this;
    }
}
