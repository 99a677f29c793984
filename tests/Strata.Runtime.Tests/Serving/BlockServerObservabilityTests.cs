using System.Net;
using Grpc.Core;
using Strata.Runtime.Observability;
using Strata.Runtime.Serving;
using Strata.Runtime.Tests.Coordination;

namespace Strata.Runtime.Tests.Serving;

/// <summary>A block server's <c>/metrics</c> counters move with the calls it answers, and its refusals show in its log.</summary>
public sealed class BlockServerObservabilityTests
{
    [Fact]
    public async Task Metrics_count_steps_tokens_sessions_kv_bytes_and_refusals_and_the_refusal_is_logged()
    {
        var log = new TestLog();
        await using var server = await BlockServerHost.StartAsync(TestSwarm.Load(0, 4, head: false), limits: new BlockServerLimits { MaxSessions = 1 },
            telemetry: new TelemetryOptions { LoggerFactory = log.Factory, MetricsPort = 0 });
        Assert.NotNull(server.MetricsAddress);
        Assert.True(log.Has("Debug BlockServerHost: block server listening on " + server.Address), log.ToString());
        var before = await MetricsScrape.GetAsync(server.MetricsAddress);
        Assert.Equal(0, MetricsScrape.Required(before, "strata_block_sessions"));
        Assert.Equal(0, MetricsScrape.Required(before, "strata_block_steps_total{kind=\"decode\"}"));

        using var client = new BlockServerClient(server.Address);
        var model = TestSwarm.Load(0, 0, head: true);
        var hiddenSize = model.Config.HiddenSize;
        await client.ForwardAsync("a", 0, 4, 0, model.Embed([72, 101, 108]), 3, hiddenSize);
        await client.ForwardAsync("a", 0, 4, 3, model.Embed([108]), 1, hiddenSize);
        var full = await Assert.ThrowsAsync<RpcException>(() => client.ForwardAsync("b", 0, 4, 0, model.Embed([1]), 1, hiddenSize));
        Assert.Equal(StatusCode.ResourceExhausted, full.StatusCode);

        var after = await MetricsScrape.GetAsync(server.MetricsAddress);
        Assert.Equal(1, MetricsScrape.Required(after, "strata_block_steps_total{kind=\"prefill\"}"));
        Assert.Equal(1, MetricsScrape.Required(after, "strata_block_steps_total{kind=\"decode\"}"));
        Assert.Equal(3, MetricsScrape.Required(after, "strata_block_tokens_total{kind=\"prefill\"}"));
        Assert.Equal(1, MetricsScrape.Required(after, "strata_block_tokens_total{kind=\"decode\"}"));
        Assert.Equal(2, MetricsScrape.Required(after, "strata_block_requests_total{method=\"Forward\",status=\"OK\"}"));
        Assert.Equal(1, MetricsScrape.Required(after, "strata_block_refusals_total{status=\"ResourceExhausted\"}"));
        Assert.Equal(1, MetricsScrape.Required(after, "strata_block_sessions"));
        Assert.Equal(server.KvBytes, MetricsScrape.Required(after, "strata_block_kv_bytes"));
        Assert.True(server.KvBytes > 0);
        Assert.Equal(2, MetricsScrape.Required(after, "strata_block_step_duration_seconds_count"));
        Assert.True(log.Has("Warning BlockServerHost: refused Forward from "), log.ToString());
    }

    [Fact]
    public async Task Health_and_metrics_are_also_served_on_the_grpc_port_over_http2()
    {
        await using var server = await BlockServerHost.StartAsync(TestSwarm.Load(0, 2, head: false));
        Assert.Null(server.MetricsAddress);
        using var http = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var health = await http.GetAsync(new Uri(server.Address, "/health"));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Contains("\"blockCount\":2", await health.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var metrics = await http.GetStringAsync(new Uri(server.Address, "/metrics"));
        Assert.Contains("strata_block_kv_budget_bytes " + new BlockServerLimits().MaxKvBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), metrics, StringComparison.Ordinal);
    }
}
