using Strata.Runtime.Protocol;

namespace Strata.Runtime.Coordination;

/// <summary>How a block server announces itself to the coordinator.</summary>
public sealed record BlockServerAgentOptions
{
    /// <summary>The server's id in the registry; null: its address (unique per host and port).</summary>
    public string? ServerId { get; init; }

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
