using Strata.Core.Placement;
using Strata.Planning.Live;
using Strata.Runtime.Protocol;

namespace Strata.Runtime.Coordination;

/// <summary>What the coordinator knows about one live block server.</summary>
/// <param name="ServerId">The server's id.</param>
/// <param name="Url">Where clients reach it.</param>
/// <param name="ModelName">The model it serves.</param>
/// <param name="LayerCount">Blocks of that model.</param>
/// <param name="Blocks">Blocks hosted.</param>
/// <param name="Role">Prefill, decode or both.</param>
/// <param name="FreeKvBytes">KV memory it can still give to sessions.</param>
/// <param name="Sessions">Sessions it holds.</param>
/// <param name="DecodeSecondsPerBlock">Decode seconds per block per token it reported (0: unknown).</param>
/// <param name="LastSeenTimestamp">Timestamp (of the registry's clock) of its last register or heartbeat.</param>
public sealed record RegisteredServer(
    string ServerId,
    Uri Url,
    string ModelName,
    int LayerCount,
    BlockRange Blocks,
    ServerRole Role,
    long FreeKvBytes,
    int Sessions,
    double DecodeSecondsPerBlock,
    long LastSeenTimestamp)
{
    /// <summary>Delay it adds to every reply to emulate a wide-area link, seconds (0: none).</summary>
    public double EmulatedRttSeconds { get; init; }

    /// <summary>Prefill seconds per block per prompt token it reported (0: unknown).</summary>
    public double PrefillSecondsPerBlockPerToken { get; init; }

    /// <summary>Sessions routed to it since its last heartbeat (the heartbeat's count does not hold them yet).</summary>
    public int PendingSessions { get; init; }

    /// <summary>KV memory it gives to sessions in all, bytes, as it registered (0: unknown).</summary>
    public long KvCapacityBytes { get; init; }

    /// <summary>Prompt tokens of the sessions routed to it for prefill since its last heartbeat (a hint of this coordinator's, like <see cref="PendingSessions"/>).</summary>
    public long PendingPromptTokens { get; init; }

    /// <summary>Output tokens to decode of the sessions routed to it for decode since its last heartbeat (a hint of this coordinator's, like <see cref="PendingSessions"/>).</summary>
    public long PendingDecodeTokens { get; init; }

    /// <summary>The server as the planner's routing policies see it, with the client's measured round trip <paramref name="rttSeconds"/> (null: the delay it announced).</summary>
    /// <param name="rttSeconds">The client's round trip to it (null: the delay it announced).</param>
    /// <param name="decodeTokensPerOpenSession">
    /// Output tokens charged to each session of its last heartbeat: the coordinator learns a session's output only when it
    /// routes it, and not how far it got since, so every open session is charged what the asking session expects (the
    /// sessions routed since the heartbeat are charged their own); 0 counts only those.
    /// </param>
    public LiveServer ToLive(double? rttSeconds = null, long decodeTokensPerOpenSession = 0) =>
        new(ServerId, Blocks, PhaseOf(Role), FreeKvBytes, Sessions, PendingSessions, DecodeSecondsPerBlock, rttSeconds ?? EmulatedRttSeconds)
        {
            PrefillSecondsPerBlockPerToken = PrefillSecondsPerBlockPerToken,
            KvCapacityBytes = KvCapacityBytes,
            PendingPromptTokens = PendingPromptTokens,
            PendingDecodeTokens = PendingDecodeTokens + ((long)Sessions * Math.Max(0, decodeTokensPerOpenSession)),
        };

    /// <summary>The planner's pool of a role on the wire.</summary>
    public static ServerPhase PhaseOf(ServerRole role) => role switch
    {
        ServerRole.Prefill => ServerPhase.Prefill,
        ServerRole.Decode => ServerPhase.Decode,
        _ => ServerPhase.Both,
    };

    /// <summary>The registry entry on the wire.</summary>
    public ServerEntry ToEntry() => new()
    {
        ServerId = ServerId,
        Url = Url.ToString(),
        ModelName = ModelName,
        LayerCount = LayerCount,
        FirstBlock = Blocks.First,
        BlockCount = Blocks.Count,
        Role = Role,
        FreeKvBytes = FreeKvBytes,
        Sessions = Sessions,
        DecodeSecondsPerBlock = DecodeSecondsPerBlock,
        EmulatedRttSeconds = EmulatedRttSeconds,
        PrefillSecondsPerBlockPerToken = PrefillSecondsPerBlockPerToken,
        PendingSessions = PendingSessions,
        KvCapacityBytes = KvCapacityBytes,
    };
}
