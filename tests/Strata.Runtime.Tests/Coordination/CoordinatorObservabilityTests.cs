using System.Net;
using Grpc.Core;
using Strata.Runtime.Coordination;
using Strata.Runtime.Protocol;
using Strata.Runtime.Serving;

namespace Strata.Runtime.Tests.Coordination;

/// <summary>An in-memory coordinator's <c>/metrics</c> and log follow joins, placements, routes and a server's silent death.</summary>
public sealed class CoordinatorObservabilityTests
{
    [Fact]
    public async Task Metrics_and_log_follow_a_placement_a_join_routes_and_a_killed_server_leaving_by_expiry()
    {
        var log = new TestLog();
        var options = new CoordinatorOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(100), JoinToken = "t", Telemetry = new() { LoggerFactory = log.Factory, MetricsPort = 0 } };
        var clock = new ManualTimeProvider(); // entries expire only when the test moves this clock, however loaded the machine is
        await using var coordinator = await CoordinatorHost.StartAsync(options: options, timeProvider: clock);
        var metrics = coordinator.MetricsAddress ?? throw new InvalidOperationException("no metrics port");
        using var client = new CoordinatorClient(coordinator.Address);
        var model = TestSwarm.Load(0, 4, head: false);
        var name = model.Config.Architecture.Name;
        Assert.Equal(0, MetricsScrape.Required(await MetricsScrape.GetAsync(metrics), "strata_coordinator_registry_servers"));

        var place = await client.PlaceAsync(name, 4, 4, "s1");
        Assert.Equal((0, 4), (place.FirstBlock, place.BlockCount));
        await using var host = await BlockServerHost.StartAsync(model);
        var agent = await BlockServerAgent.StartAsync(host, client, name, 4, new BlockServerAgentOptions { ServerId = "s1", JoinToken = "t" });
        try
        {
            var route = await client.RouteAsync(new RouteRequest { ModelName = name, LayerCount = 4 });
            Assert.Equal("s1", Assert.Single(route.Hops).ServerId);
            var none = await Assert.ThrowsAsync<RpcException>(() => client.RouteAsync(new RouteRequest { ModelName = name, LayerCount = 4, ExcludedServerIds = { "s1" } }));
            Assert.Equal(StatusCode.Unavailable, none.StatusCode);

            var scrape = await MetricsScrape.GetAsync(metrics);
            Assert.Equal(1, MetricsScrape.Required(scrape, "strata_coordinator_placements_total"));
            Assert.Equal(1, MetricsScrape.Required(scrape, "strata_coordinator_registrations_total{kind=\"new\"}"));
            Assert.Equal(1, MetricsScrape.Required(scrape, "strata_coordinator_registry_servers"));
            Assert.Equal(1, MetricsScrape.Required(scrape, $"strata_coordinator_model_servers{{model=\"{name}\"}}"));
            Assert.Equal(1, MetricsScrape.Required(scrape, "strata_coordinator_routes_total{outcome=\"ok\"}"));
            Assert.Equal(1, MetricsScrape.Required(scrape, "strata_coordinator_routes_total{outcome=\"none\"}"));
            Assert.Equal(1, MetricsScrape.Required(scrape, "strata_coordinator_requests_total{method=\"Register\",status=\"OK\"}"));
            Assert.Equal(0, MetricsScrape.Required(scrape, "strata_coordinator_lease_expiries_total"));
            Assert.Equal(0, MetricsScrape.Required(scrape, "strata_coordinator_registry_stale"));
            Assert.True(log.Has("Information CoordinatorHost: placed s1: blocks [0, 4)"), log.ToString());
            Assert.True(log.Has("Information CoordinatorHost: server s1 joined at " + host.Address), log.ToString());
            Assert.True(log.Has("Warning CoordinatorHost: no route for blocks [0, 4)"), log.ToString());

            // The server dies without deregistering: the coordinator's log names it once its heartbeats have timed out.
            await agent.AbandonAsync();
            for (var tries = 0; !log.Has("Warning CoordinatorHost: server s1 left without deregistering here"); tries++)
            {
                Assert.True(tries < 100, log.ToString());
                clock.Advance(options.HeartbeatTimeout * 2); // the sweep (every heartbeat interval of real time) drops the silent entry
                await Task.Delay(options.HeartbeatInterval);
            }

            scrape = await MetricsScrape.GetAsync(metrics);
            Assert.Equal(1, MetricsScrape.Required(scrape, "strata_coordinator_lease_expiries_total"));
            Assert.Equal(0, MetricsScrape.Required(scrape, "strata_coordinator_registry_servers"));
            Assert.Equal(0, MetricsScrape.Required(scrape, $"strata_coordinator_model_servers{{model=\"{name}\"}}"));

            using var http = new HttpClient();
            using var health = await http.GetAsync(new Uri(metrics, "/health"));
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Contains("\"registry\":\"in memory\"", await health.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        finally
        {
            await agent.DisposeAsync();
        }
    }
}
