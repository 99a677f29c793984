using Strata.Core;

namespace Strata.Runtime.Coordination;

/// <summary>Where an <see cref="EtcdServerRegistry"/> keeps the swarm: the etcd members, the key prefix and the lease times.</summary>
public sealed record EtcdRegistryOptions
{
    /// <summary>The etcd members' client URLs, for example <c>http://127.0.0.1:2379</c>; at least one.</summary>
    public required IReadOnlyList<Uri> Endpoints { get; init; }

    /// <summary>Prefix of every key the registry writes. Default <c>/strata/</c>; ends with '/'.</summary>
    public string Prefix { get; init; } = "/strata/";

    /// <summary>
    /// Lease of a server's entry: the entry disappears this long after the last heartbeat that reached a coordinator.
    /// Default 6 s (3 heartbeats of 2 s); whole seconds, at least 2 (etcd's floor with its default election time-out).
    /// </summary>
    public TimeSpan ServerLeaseTtl { get; init; } = TimeSpan.FromSeconds(6);

    /// <summary>How long a placement handed to a joining server holds its window before the server registers. Default 30 s.</summary>
    public TimeSpan ReservationTtl { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Deadline of one etcd call. Default 5 s.</summary>
    public TimeSpan CallTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Distinct reporters after which a server is quarantined. Default 1.</summary>
    public int QuarantineReportThreshold { get; init; } = 1;

    /// <summary>
    /// How long this coordinator's copy may go unconfirmed against etcd before it counts as stale and the coordinator
    /// refuses calls (so clients fail over to one that can see etcd). Default null: a third of <see cref="ServerLeaseTtl"/>
    /// (one heartbeat interval), so that a server heartbeating through a cut-off coordinator moves to another well before
    /// its lease runs out, but at least 3 s, three times etcd's default election time-out, so that a leader election (the
    /// cluster answers no linearizable read meanwhile) plus moving the watch off a dead leader never makes every coordinator
    /// stale at once. At least 100 ms.
    /// </summary>
    public TimeSpan? StaleAfter { get; init; }

    /// <summary>The staleness bound in force: <see cref="StaleAfter"/>, or a third of <see cref="ServerLeaseTtl"/> but at least 3 s.</summary>
    public TimeSpan StaleBound => StaleAfter ?? TimeSpan.FromTicks(Math.Max(ServerLeaseTtl.Ticks / 3, TimeSpan.FromSeconds(3).Ticks));

    /// <summary>Where the registry logs etcd fail-overs (watch restarts, retried calls) and staleness; null writes nowhere.</summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Parses <c>etcd://HOST:PORT[,HOST:PORT...]</c> (the form of <c>--registry</c>) into the members' client URLs.</summary>
    /// <exception cref="StrataException">The text is not of that form.</exception>
    public static IReadOnlyList<Uri> ParseEndpoints(string registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        const string scheme = "etcd://";
        if (!registry.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || registry.Length == scheme.Length)
        {
            throw new StrataException($"--registry is '{registry}'; expected etcd://HOST:PORT[,HOST:PORT...], for example etcd://127.0.0.1:2379.");
        }

        var endpoints = new List<Uri>();
        foreach (var part in registry[scheme.Length..].TrimEnd('/').Split(','))
        {
            if (!Uri.TryCreate("http://" + part.Trim(), UriKind.Absolute, out var url) || url.IsDefaultPort || url.AbsolutePath != "/" || part.Contains('@', StringComparison.Ordinal))
            {
                throw new StrataException($"--registry member '{part}' is not HOST:PORT (in '{registry}'); expected etcd://HOST:PORT[,HOST:PORT...].");
            }

            endpoints.Add(url);
        }

        return endpoints;
    }

    /// <summary>Checks the ranges.</summary>
    public EtcdRegistryOptions Validate()
    {
        if (Endpoints is null || Endpoints.Count == 0)
        {
            throw new ArgumentException("At least one etcd endpoint is needed.", nameof(Endpoints));
        }

        if (string.IsNullOrEmpty(Prefix) || !Prefix.EndsWith('/'))
        {
            throw new ArgumentException($"Prefix '{Prefix}' must be non-empty and end with '/'.", nameof(Prefix));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(ServerLeaseTtl, TimeSpan.FromSeconds(2));
        ArgumentOutOfRangeException.ThrowIfLessThan(ReservationTtl, TimeSpan.FromSeconds(2));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(CallTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(QuarantineReportThreshold, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(StaleBound, TimeSpan.FromMilliseconds(100), nameof(StaleAfter));
        return this;
    }
}
