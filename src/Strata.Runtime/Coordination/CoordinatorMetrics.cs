using Prometheus;

namespace Strata.Runtime.Coordination;

/// <summary>The coordinator's Prometheus metrics (prometheus-net, in a registry of the coordinator's own), served as text at <c>/metrics</c>.</summary>
/// <remarks>
/// Thread-safe. Counters count what this coordinator did or saw; gauges describe its copy of the registry at the scrape.
/// The etcd series (revision, watch events, lag and restarts, call retries, staleness) appear only with an
/// <see cref="EtcdServerRegistry"/>.
/// </remarks>
internal sealed class CoordinatorMetrics
{
    // 100 us to about 6.5 s, doubling: a loopback etcd answers in a millisecond, a lost member in seconds.
    private static readonly double[] LagBucketsSeconds = Histogram.ExponentialBuckets(1e-4, 2, 17);

    private readonly Counter _calls;
    private readonly Counter _registrations;
    private readonly Counter _deregistrations;
    private readonly Counter _expiries;
    private readonly Counter _placements;
    private readonly Counter _quarantines;
    private readonly Counter _routes;
    private readonly Counter _refusedStale;
    private readonly Counter _phasePlans;

    /// <summary>Creates the metrics of a coordinator serving <paramref name="registry"/> (read at each scrape).</summary>
    public CoordinatorMetrics(IServerRegistry registry)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        _calls = factory.CreateCounter("strata_coordinator_requests_total", "gRPC calls answered, by method and status code.", ["method", "status"]);
        _registrations = factory.CreateCounter("strata_coordinator_registrations_total", "Registrations accepted: a server joining (new) or registering again (renewed).", ["kind"]);
        _deregistrations = factory.CreateCounter("strata_coordinator_deregistrations_total", "Servers that left by deregistering through this coordinator.");
        _expiries = factory.CreateCounter("strata_coordinator_lease_expiries_total", "Servers that left without deregistering here: their lease expired (or, with etcd, they left through another coordinator).");
        _placements = factory.CreateCounter("strata_coordinator_placements_total", "Block windows handed to --auto servers.");
        _quarantines = factory.CreateCounter("strata_coordinator_quarantines_total", "Servers quarantined by reports through this coordinator.");
        _routes = factory.CreateCounter("strata_coordinator_routes_total", "Route requests, by outcome (ok, or none when no chain of live servers covers the blocks).", ["outcome"]);
        _phasePlans = factory.CreateCounter("strata_coordinator_phase_plans_total", "Phase-split plans, by Splitwise's decision (split, prompt-decodes, mixed).", ["decision"]);
        _refusedStale = factory.CreateCounter("strata_coordinator_stale_refusals_total", "Calls refused because this coordinator's copy of the registry may be stale (etcd out of reach), up front or after waiting on etcd.");
        var servers = factory.CreateGauge("strata_coordinator_registry_servers", "Live servers in this coordinator's copy of the registry (quarantined ones excluded).");
        var quarantined = factory.CreateGauge("strata_coordinator_quarantined_servers", "Servers quarantined now.");
        var perModel = factory.CreateGauge("strata_coordinator_model_servers", "Live servers per model.", ["model"]);
        var stale = factory.CreateGauge("strata_coordinator_registry_stale", "1 while this coordinator's copy of the registry may be stale and it refuses calls, else 0.");
        var seenModels = new HashSet<string>(StringComparer.Ordinal);
        Registry.AddBeforeCollectCallback(() =>
        {
            var live = registry.Live();
            servers.Set(live.Count);
            quarantined.Set(registry.Quarantined().Count);
            stale.Set(registry.IsStale ? 1 : 0);
            var counts = live.GroupBy(s => s.ModelName, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            lock (seenModels)
            {
                seenModels.UnionWith(counts.Keys);
                foreach (var model in seenModels)
                {
                    perModel.WithLabels(model).Set(counts.GetValueOrDefault(model));
                }
            }
        });
        if (registry is EtcdServerRegistry etcd)
        {
            var revision = factory.CreateGauge("strata_coordinator_etcd_revision", "The etcd revision this coordinator's copy reflects.");
            var events = factory.CreateCounter("strata_coordinator_watch_events_total", "etcd watch events applied to this coordinator's copy.");
            var restarts = factory.CreateCounter("strata_coordinator_watch_restarts_total", "Times the etcd watch was re-established (a member died or stalled, or the stream broke): fail-overs between etcd members.");
            var retries = factory.CreateCounter("strata_coordinator_etcd_call_retries_total", "etcd calls retried after a member did not answer: fail-overs between etcd members.");
            var lastLag = factory.CreateGauge("strata_coordinator_watch_lag_seconds", "Seconds between this coordinator's last etcd write and its watch delivering it.");
            var age = factory.CreateGauge("strata_coordinator_registry_age_seconds", "Seconds since this coordinator last confirmed that its copy holds etcd's latest revision.");
            var lag = factory.CreateHistogram("strata_coordinator_watch_lag_distribution_seconds", "Seconds between each etcd write of this coordinator and its watch delivering it.",
                new HistogramConfiguration { Buckets = LagBucketsSeconds });
            etcd.WatchLagObserved += lag.Observe;
            Registry.AddBeforeCollectCallback(() =>
            {
                revision.Set(etcd.Revision);
                events.IncTo(etcd.WatchEvents);
                restarts.IncTo(etcd.WatchRestarts);
                retries.IncTo(etcd.CallRetries);
                lastLag.Set(etcd.LastWatchLagSeconds);
                age.Set(etcd.SecondsSinceCurrent);
            });
        }
    }

    /// <summary>Every metric, for <c>/metrics</c>.</summary>
    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    /// <summary>Counts one answered gRPC call.</summary>
    public void Call(string method, Grpc.Core.StatusCode status) => _calls.WithLabels(method, status.ToString()).Inc();

    /// <summary>Counts one accepted registration.</summary>
    public void Registered(bool renewed) => _registrations.WithLabels(renewed ? "renewed" : "new").Inc();

    /// <summary>Counts one deregistration.</summary>
    public void Deregistered() => _deregistrations.Inc();

    /// <summary>Counts one server gone without deregistering here.</summary>
    public void Expired() => _expiries.Inc();

    /// <summary>Counts one placement.</summary>
    public void Placed() => _placements.Inc();

    /// <summary>Counts one quarantine.</summary>
    public void Quarantined() => _quarantines.Inc();

    /// <summary>Counts one route request.</summary>
    public void Routed(bool found) => _routes.WithLabels(found ? "ok" : "none").Inc();

    /// <summary>Counts one call refused for a stale registry.</summary>
    public void RefusedStale() => _refusedStale.Inc();

    /// <summary>Counts a phase-split plan by its decision.</summary>
    public void PhasePlanned(Strata.Planning.Live.PhaseDecision decision) => _phasePlans.WithLabels(decision switch
    {
        Strata.Planning.Live.PhaseDecision.Split => "split",
        Strata.Planning.Live.PhaseDecision.PromptDecodes => "prompt-decodes",
        _ => "mixed",
    }).Inc();
}
