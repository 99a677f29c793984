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

    /// <summary>The server as the planner's routing policies see it, with the client's measured round trip <paramref name="rttSeconds"/> (null: the delay it announced).</summary>
    public LiveServer ToLive(double? rttSeconds = null) =>
        new(ServerId, Blocks, PhaseOf(Role), FreeKvBytes, Sessions, PendingSessions, DecodeSecondsPerBlock, rttSeconds ?? EmulatedRttSeconds)
        {
            PrefillSecondsPerBlockPerToken = PrefillSecondsPerBlockPerToken,
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
    };
}
