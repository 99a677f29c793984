using Strata.Planning.Live;
using Strata.Planning.Pools;
using Strata.Runtime.Observability;

namespace Strata.Runtime.Coordination;

/// <summary>How a coordinator keeps its registry and prices routes.</summary>
public sealed record CoordinatorOptions
{
    /// <summary>Shared secret a server must present to register, heartbeat or deregister; null or empty for none.</summary>
    public string? JoinToken { get; init; }

    /// <summary>How often servers are asked to heartbeat. Default 2 s; range 10 ms to 1 hour.</summary>
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Heartbeats a server may miss before it is dropped. Default 3; range 1 to 100.</summary>
    public int MissedHeartbeats { get; init; } = 3;

    /// <summary>Fixed cost of entering one more server per decode step (network round trip plus software), seconds. Default 1 ms.</summary>
    public double HopOverheadSeconds { get; init; } = 1e-3;

    /// <summary>Decode seconds per block per token assumed for a server that did not report one. Default 1 ms.</summary>
    public double DefaultDecodeSecondsPerBlock { get; init; } = 1e-3;

    /// <summary>What the routing policies assume of a server that reported no times.</summary>
    public LiveRouteOptions Routing => new() { HopOverheadSeconds = HopOverheadSeconds, DefaultDecodeSecondsPerBlock = DefaultDecodeSecondsPerBlock };

    /// <summary>Pending prompt tokens of the best prefill chain past which a phase-split session runs wholly on the decode chain (Splitwise's mixed pool). Default that of <see cref="SplitwiseScheduler"/>, 4 x 2,048; at least 0.</summary>
    public long PromptQueueThresholdTokens { get; init; } = new SplitwiseScheduler().PromptQueueThresholdTokens;

    /// <summary>KV utilisation of the best decode chain past which the prefill chain decodes a phase-split session itself. Default that of <see cref="SplitwiseScheduler"/>, 0.95; range 0 to 1.</summary>
    public double TokenKvThreshold { get; init; } = new SplitwiseScheduler().TokenKvThreshold;

    /// <summary>The scheduler that decides phase-split plans: the simulator's Splitwise scheduler with these thresholds.</summary>
    public SplitwiseScheduler PhaseScheduler => new() { PromptQueueThresholdTokens = PromptQueueThresholdTokens, TokenKvThreshold = TokenKvThreshold };

    /// <summary>Distinct reporting clients (peer hosts) after which a server is quarantined: no route goes through it any more. Default 1; at least 1.</summary>
    public int QuarantineReportThreshold { get; init; } = 1;

    /// <summary>Where the coordinator logs (joins, leaves, placements, quarantines, etcd fail-overs) and whether it opens an HTTP/1.1 port for <c>/health</c> and <c>/metrics</c>.</summary>
    public TelemetryOptions Telemetry { get; init; } = new();

    /// <summary>
    /// TLS of the gRPC port: served when it has a certificate, mutual when it has client authorities; null (the default):
    /// cleartext HTTP/2. The HTTP/1.1 metrics port stays cleartext.
    /// </summary>
    public Security.TlsOptions? Tls { get; init; }

    /// <summary>How long a server may stay silent before it is dropped.</summary>
    public TimeSpan HeartbeatTimeout => HeartbeatInterval * MissedHeartbeats;

    /// <summary>Checks the ranges.</summary>
    public CoordinatorOptions Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(HeartbeatInterval, TimeSpan.FromMilliseconds(10));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(HeartbeatInterval, TimeSpan.FromHours(1));
        ArgumentOutOfRangeException.ThrowIfLessThan(MissedHeartbeats, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MissedHeartbeats, 100);
        ArgumentOutOfRangeException.ThrowIfNegative(HopOverheadSeconds);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(DefaultDecodeSecondsPerBlock);
        ArgumentOutOfRangeException.ThrowIfLessThan(QuarantineReportThreshold, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(PromptQueueThresholdTokens);
        if (!(TokenKvThreshold is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(TokenKvThreshold), TokenKvThreshold, "The KV threshold is a share of memory, 0 to 1.");
        }

        ArgumentNullException.ThrowIfNull(Telemetry);
        Telemetry.Validate();
        Tls?.Validate();
        return this;
    }
}
