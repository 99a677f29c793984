using Strata.Core.Placement;

namespace Strata.Planning.Live;

/// <summary>One live block server as a routing policy sees it: the range it hosts, its pool, its load and the client's round trip to it.</summary>
/// <param name="Id">The server's id (ties between equal routes go to the server listed first).</param>
/// <param name="Blocks">Blocks hosted.</param>
/// <param name="Phase">Its pool: both phases, prefill or decode.</param>
/// <param name="FreeKvBytes">KV memory it can still give to sessions.</param>
/// <param name="OpenSessions">Sessions it holds (its last heartbeat).</param>
/// <param name="PendingSessions">Sessions routed to it since that heartbeat (they reserve cache, see <see cref="LiveSwarm"/>).</param>
/// <param name="DecodeSecondsPerBlock">Decode seconds per block per token when idle (<c>tau_j</c>; 0: unknown, the options' default).</param>
/// <param name="RttSeconds">Round trip from the client to it, network plus any emulated delay (0: unknown, the options' default).</param>
public sealed record LiveServer(
    string Id,
    BlockRange Blocks,
    ServerPhase Phase,
    long FreeKvBytes,
    int OpenSessions,
    int PendingSessions,
    double DecodeSecondsPerBlock,
    double RttSeconds)
{
    /// <summary>Prefill seconds per block per prompt token when idle (0: the decode time per block, a CPU server's cost of one token).</summary>
    public double PrefillSecondsPerBlockPerToken { get; init; }

    /// <summary>KV memory it gives to sessions in all, bytes (0: unknown, never counted as full by <see cref="KvUtilization"/>).</summary>
    public long KvCapacityBytes { get; init; }

    /// <summary>Prompt tokens of the sessions routed to it for prefill that it has not reported yet (the coordinator's estimate of its prompt queue).</summary>
    public long PendingPromptTokens { get; init; }

    /// <summary>Output tokens its sessions have still to decode (the coordinator's estimate, see <c>CoordinatorService</c>).</summary>
    public long PendingDecodeTokens { get; init; }

    /// <summary>
    /// Share of its KV memory in use or reserved, in [0, 1], when every pending session reserves
    /// <paramref name="kvBytesPerBlock"/> in each hosted block (as <see cref="LiveSwarm"/> counts them); 0 when the capacity is unknown.
    /// </summary>
    public double KvUtilization(long kvBytesPerBlock)
    {
        if (KvCapacityBytes <= 0)
        {
            return 0;
        }

        var reserved = (double)Math.Max(0, kvBytesPerBlock) * Blocks.Count * Math.Max(0, PendingSessions);
        var used = KvCapacityBytes - Math.Max(0, FreeKvBytes) + reserved;
        return Math.Clamp(used / KvCapacityBytes, 0, 1);
    }

    /// <summary>Whether the server belongs to the pool of <paramref name="phase"/>: a prefill (decode) route takes prefill (decode) or both-phase servers; a whole-generation route takes both-phase servers (see <see cref="LiveRouting"/> for its fallback).</summary>
    public bool Serves(ServerPhase phase) => phase switch
    {
        ServerPhase.Prefill => Phase is ServerPhase.Prefill or ServerPhase.Both,
        ServerPhase.Decode => Phase is ServerPhase.Decode or ServerPhase.Both,
        _ => Phase is ServerPhase.Both,
    };
}
