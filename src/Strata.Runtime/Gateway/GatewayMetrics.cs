using Prometheus;

namespace Strata.Runtime.Gateway;

/// <summary>The gateway's Prometheus metrics (prometheus-net, in a registry of the gateway's own), served as text at <c>/metrics</c>.</summary>
/// <remarks>Thread-safe. Names follow Prometheus conventions: <c>_total</c> counters, base units (seconds) in the name.</remarks>
internal sealed class GatewayMetrics
{
    /// <summary>The Prometheus text exposition format's content type.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    // 1 ms to about 65 s, doubling: covers a tiny model on loopback and a large one across a WAN.
    private static readonly double[] LatencyBucketsSeconds = Histogram.ExponentialBuckets(0.001, 2, 17);

    private readonly CollectorRegistry _registry = Prometheus.Metrics.NewCustomRegistry();
    private readonly Counter _requests;
    private readonly Counter _promptTokens;
    private readonly Counter _completionTokens;
    private readonly Histogram _ttft;
    private readonly Histogram _tpot;
    private readonly Histogram _duration;
    private readonly Counter _failovers;

    /// <summary>Creates the metrics; <paramref name="queue"/> and <paramref name="failovers"/> are read at each scrape.</summary>
    public GatewayMetrics(AdmissionQueue queue, Func<long> failovers)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(_registry);
        _requests = factory.CreateCounter("strata_gateway_requests_total", "HTTP requests answered, by route and status code.", ["route", "status"]);
        _promptTokens = factory.CreateCounter("strata_gateway_prompt_tokens_total", "Prompt tokens of admitted generations.");
        _completionTokens = factory.CreateCounter("strata_gateway_completion_tokens_total", "Tokens generated.");
        _ttft = factory.CreateHistogram("strata_gateway_time_to_first_token_seconds", "Time from admission to the first generated token.",
            new HistogramConfiguration { Buckets = LatencyBucketsSeconds });
        _tpot = factory.CreateHistogram("strata_gateway_time_per_output_token_seconds", "Mean time per generated token after the first, one observation per request.",
            new HistogramConfiguration { Buckets = LatencyBucketsSeconds });
        _duration = factory.CreateHistogram("strata_gateway_request_duration_seconds", "Time from admission to the end of a generation.",
            new HistogramConfiguration { Buckets = LatencyBucketsSeconds });
        _failovers = factory.CreateCounter("strata_gateway_failovers_total", "Re-routes after a dead or full block server, counted when their request ends.");
        var queued = factory.CreateGauge("strata_gateway_queue_depth", "Requests waiting for a generation slot.");
        var running = factory.CreateGauge("strata_gateway_running_requests", "Generations running.");
        _registry.AddBeforeCollectCallback(() =>
        {
            queued.Set(queue.Queued);
            running.Set(queue.Running);
            _failovers.IncTo(failovers());
        });
    }

    /// <summary>Counts one answered request.</summary>
    public void Request(string route, int statusCode) => _requests.WithLabels(route, statusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();

    /// <summary>Records one generation: its token counts and timings (null timings are not observed).</summary>
    public void Generation(int promptTokens, int completionTokens, double? ttftSeconds, double? tpotSeconds, double durationSeconds)
    {
        _promptTokens.Inc(promptTokens);
        _completionTokens.Inc(completionTokens);
        if (ttftSeconds is { } ttft)
        {
            _ttft.Observe(ttft);
        }

        if (tpotSeconds is { } tpot)
        {
            _tpot.Observe(tpot);
        }

        _duration.Observe(durationSeconds);
    }

    /// <summary>Writes every metric in the Prometheus text format.</summary>
    public Task WriteAsync(Stream destination, CancellationToken cancellationToken) => _registry.CollectAndExportAsTextAsync(destination, cancellationToken);
}
