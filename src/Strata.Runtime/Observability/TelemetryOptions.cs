using Microsoft.Extensions.Logging;

namespace Strata.Runtime.Observability;

/// <summary>Where a coordinator or block server writes its logs, and whether it opens an HTTP/1.1 port for <c>/health</c> and <c>/metrics</c>.</summary>
/// <remarks>
/// Both are always served on the host's own (HTTP/2 cleartext) port as well, for clients that speak prior-knowledge
/// HTTP/2 (<c>curl --http2-prior-knowledge</c>); Prometheus and most probes speak HTTP/1.1, hence the optional port.
/// </remarks>
public sealed record TelemetryOptions
{
    /// <summary>The loggers of the host and its parts; null (the default) writes nowhere.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>TCP port of an HTTP/1.1 endpoint serving <c>/health</c> and <c>/metrics</c> on the host's address; 0 picks a free one; null (the default) opens none.</summary>
    public int? MetricsPort { get; init; }

    /// <summary>Checks the ranges.</summary>
    public TelemetryOptions Validate()
    {
        if (MetricsPort is { } port)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(port, nameof(MetricsPort));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535, nameof(MetricsPort));
        }

        return this;
    }
}
