using Strata.Runtime.Protocol;

namespace Strata.Runtime.Coordination;

/// <summary>How a block server announces itself to the coordinator.</summary>
public sealed record BlockServerAgentOptions
{
    /// <summary>The server's id in the registry; null: the authority of its advertised URL (unique per host and port).</summary>
    public string? ServerId { get; init; }

    /// <summary>The URL registered for clients and peers to reach the server (<c>--advertise</c>); null: the address it bound.</summary>
    public Uri? AdvertisedUrl { get; init; }

    /// <summary>
    /// Whether the server took its blocks from the coordinator (<c>--auto</c>) and may move: the coordinator then answers a
    /// heartbeat with other blocks when moving raises coverage (PETALS' rebalancing), and <see cref="BlockServerAgent.MoveRequested"/> completes.
    /// </summary>
    public bool Movable { get; init; }

    /// <summary>Prefill, decode or both (default both).</summary>
    public ServerRole Role { get; init; } = ServerRole.Both;

    /// <summary>The coordinator's shared join token, when it has one.</summary>
    public string? JoinToken { get; init; }

    /// <summary>Decode seconds per block per token to announce (0: unknown, the coordinator assumes its default).</summary>
    public double DecodeSecondsPerBlock { get; init; }

    /// <summary>Prefill seconds per block per prompt token to announce (0: unknown, the decode time per block).</summary>
    public double PrefillSecondsPerBlockPerToken { get; init; }

    /// <summary>Where the agent logs its registration, re-registrations, failed heartbeats and deregistration; null logs nowhere.</summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; init; }
}
