using Grpc.Core;
using Prometheus;

namespace Strata.Runtime.Serving;

/// <summary>A block server's Prometheus metrics (prometheus-net, in a registry of the server's own), served as text at <c>/metrics</c>.</summary>
/// <remarks>Thread-safe. Counters count calls this server answered; gauges (sessions, KV bytes) are read from the server at each scrape.</remarks>
internal sealed class BlockServerMetrics
{
    // 100 us to about 6.5 s, doubling: one decode step of a tiny model to a long prefill of a large one.
    private static readonly double[] StepBucketsSeconds = Histogram.ExponentialBuckets(1e-4, 2, 17);

    // Sessions' tokens per decode step: 1 to 1,024 (the most --max-batch allows), doubling.
    private static readonly double[] BatchBuckets = Histogram.ExponentialBuckets(1, 2, 11);

    private readonly Counter _requests;
    private readonly Counter _steps;
    private readonly Counter _tokens;
    private readonly Counter _refusals;
    private readonly Counter _evicted;
    private readonly Histogram _stepSeconds;
    private readonly Histogram _batchSize;

    /// <summary>Creates the metrics of <paramref name="service"/>, serving blocks [<paramref name="firstBlock"/>, +<paramref name="blockCount"/>) of <paramref name="model"/>.</summary>
    public BlockServerMetrics(BlockServerService service, string model, int firstBlock, int blockCount)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        _requests = factory.CreateCounter("strata_block_requests_total", "gRPC calls answered, by method and status code.", ["method", "status"]);
        _steps = factory.CreateCounter("strata_block_steps_total", "Forward steps run to the end, by kind (prefill: several tokens; decode: one).", ["kind"]);
        _tokens = factory.CreateCounter("strata_block_tokens_total", "Tokens of the forward steps run to the end, by kind.", ["kind"]);
        _refusals = factory.CreateCounter("strata_block_refusals_total", "Calls refused, by status (RESOURCE_EXHAUSTED: KV budget or session limit; others: bad or out-of-order requests).", ["status"]);
        _evicted = factory.CreateCounter("strata_block_sessions_evicted_total", "Sessions dropped after staying idle past the limit.");
        _stepSeconds = factory.CreateHistogram("strata_block_step_duration_seconds", "Time to answer one forward step.", new HistogramConfiguration { Buckets = StepBucketsSeconds });
        _batchSize = factory.CreateHistogram("strata_block_decode_batch_size", "Sessions' tokens run by one decode step (one pass over the weights; --max-batch bounds it).",
            new HistogramConfiguration { Buckets = BatchBuckets });
        service.DecodeStepRan = tokens => _batchSize.Observe(tokens);
        foreach (var kind in new[] { "prefill", "decode" })
        {
            // Published at 0 from the start, so that a rate over the first steps has a point before them.
            _steps.WithLabels(kind);
            _tokens.WithLabels(kind);
        }

        var sessions = factory.CreateGauge("strata_block_sessions", "Sessions held now.");
        var kvBytes = factory.CreateGauge("strata_block_kv_bytes", "KV-cache bytes held by every session now (and reserved by bulk pulls in flight).");
        var kvBudget = factory.CreateGauge("strata_block_kv_budget_bytes", "The KV-cache budget over all sessions (--max-kv-bytes).");
        var info = factory.CreateGauge("strata_block_info", "Always 1; the labels say what this server hosts.", ["model", "first_block", "block_count"]);
        info.WithLabels(model, firstBlock.ToString(System.Globalization.CultureInfo.InvariantCulture), blockCount.ToString(System.Globalization.CultureInfo.InvariantCulture)).Set(1);
        Registry.AddBeforeCollectCallback(() =>
        {
            sessions.Set(service.SessionCount);
            kvBytes.Set(service.KvBytes);
            kvBudget.Set(service.Limits.MaxKvBytes);
        });
    }

    /// <summary>
    /// Decode steps run so far and the sessions' tokens they carried (the batch-size histogram's count and sum; their
    /// ratio is the mean batch). Read one after the other: exact once the steps are over, not mid-traffic.
    /// </summary>
    public (long Steps, long Rows) DecodeBatches => (_batchSize.Count, (long)_batchSize.Sum);

    /// <summary>Every metric, for <c>/metrics</c>.</summary>
    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    /// <summary>Counts one answered call; a status other than OK or CANCELLED also counts as a refusal.</summary>
    public void Call(string method, StatusCode status)
    {
        _requests.WithLabels(method, status.ToString()).Inc();
        if (status is not (StatusCode.OK or StatusCode.Cancelled))
        {
            _refusals.WithLabels(status.ToString()).Inc();
        }
    }

    /// <summary>Counts one forward step of <paramref name="tokens"/> tokens answered in <paramref name="seconds"/>.</summary>
    public void Step(int tokens, double seconds)
    {
        var kind = tokens > 1 ? "prefill" : "decode";
        _steps.WithLabels(kind).Inc();
        _tokens.WithLabels(kind).Inc(tokens);
        _stepSeconds.Observe(seconds);
    }

    /// <summary>Counts sessions evicted for idleness.</summary>
    public void Evicted(int sessions) => _evicted.Inc(sessions);
}
