using Strata.Runtime.Protocol;

namespace Strata.Runtime.Coordination;

/// <summary>What the coordinator knows about one live block server.</summary>
/// <param name="ServerId">The server's id.</param>
/// <param name="Url">Where clients reach it.</param>
/// <param name="ModelName">The model it serves.</param>
/// <param name="LayerCount">Blocks of that model.</param>
/// <param name="FirstBlock">First block hosted.</param>
/// <param name="BlockCount">Blocks hosted.</param>
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
    int FirstBlock,
    int BlockCount,
    ServerRole Role,
    long FreeKvBytes,
    int Sessions,
    double DecodeSecondsPerBlock,
    long LastSeenTimestamp)
{
    /// <summary>One past the last block hosted.</summary>
    public int EndBlock => FirstBlock + BlockCount;

    /// <summary>Whether the server may take part in a route asked for with <paramref name="role"/>.</summary>
    /// <remarks>A whole-generation route (<see cref="ServerRole.Both"/>) prefers servers of role both: a prefill or decode
    /// server was set aside for one phase. The route planner falls back to them only when servers of role both cannot
    /// cover the blocks (see <see cref="ServesAsFallback"/>).</remarks>
    public bool Serves(ServerRole role) => role switch
    {
        ServerRole.Prefill => Role is ServerRole.Prefill or ServerRole.Both,
        ServerRole.Decode => Role is ServerRole.Decode or ServerRole.Both,
        _ => Role is ServerRole.Both,
    };

    /// <summary>Whether the server may serve a whole-generation route when servers of role both cannot cover it.</summary>
    public static bool ServesAsFallback(ServerRole role) => role == ServerRole.Both;

    /// <summary>The registry entry on the wire.</summary>
    public ServerEntry ToEntry() => new()
    {
        ServerId = ServerId,
        Url = Url.ToString(),
        ModelName = ModelName,
        LayerCount = LayerCount,
        FirstBlock = FirstBlock,
        BlockCount = BlockCount,
        Role = Role,
        FreeKvBytes = FreeKvBytes,
        Sessions = Sessions,
        DecodeSecondsPerBlock = DecodeSecondsPerBlock,
    };
}
