using Strata.Core.Network;
using Strata.Planning.Placement;
using Strata.Planning.Routing;
using Strata.Planning.Swarm;
using Strata.Simulation.Swarm;

namespace Strata.Simulation.Tests.Swarm;

public sealed class SwarmSimulatorTests
{
    private static SwarmInstance Paper(int servers = 9, int output = 64, string topology = "clustered", int seed = 0)
    {
        var clustered = topology == "clustered";
        var network = clustered ? ClusteredTopology.Create() : BuiltInTopologies.Load(topology).ShortestPathLatencies();
        return SwarmLayout.Build(SwarmCostPresets.Bloom176bPaper(), network, clustered,
            SwarmLayout.Mix(servers, 0.2, SwarmCostPresets.A100, SwarmCostPresets.Mig, seed), 2, 20, output, seed);
    }

    private static SwarmSimulationResult Run(SwarmInstance instance, string placement, string routing, SwarmSimulationOptions options)
    {
        var policy = PlacementPolicies.Create(placement);
        var plan = policy.Place(instance, options.RateRequestsPerSecond);
        return new SwarmSimulator(instance, plan.Placement, policy, RoutingPolicies.Create(routing), options).Run();
    }

    [Theory]
    [InlineData("petals", "petals")]
    [InlineData("cg-bp", "ws-rr")]
    [InlineData("cg-bp", "shortest-path")]
    public void Every_request_completes_or_fails_with_a_reason_and_no_slot_is_left_held_under_churn(string placement, string routing)
    {
        var instance = Paper();
        var a100 = Enumerable.Range(0, instance.Servers.Count).First(j => instance.Servers[j].Costs.DeviceId == SwarmCostPresets.A100);
        var options = new SwarmSimulationOptions
        {
            RateRequestsPerSecond = 0.5,
            Requests = 80,
            Seed = 3,
            Churn = [new ChurnEvent(60, a100, ChurnKind.Fail), new ChurnEvent(100, 0, ChurnKind.Leave), new ChurnEvent(200, a100, ChurnKind.Join)],
            FailureRatePerSecond = 0.01,
            RejoinAfterSeconds = 30,
        };
        var result = Run(instance, placement, routing, options);
        Assert.Equal(80, result.Outcomes.Count);
        Assert.All(result.Outcomes, o => Assert.True(o.Completed ^ (o.FailureReason is not null)));
        Assert.All(result.Outcomes.Where(o => o.Completed), o => Assert.True(o.CompletionSeconds >= o.FirstTokenSeconds && o.FirstTokenSeconds > o.ArrivalSeconds));
        Assert.Equal(0, result.SlotsInUseAtEnd);
        Assert.True(result.Outcomes.Any(o => o.Retries > 0), "the churn should have broken some sessions");
    }

    [Fact]
    public void The_same_seed_gives_the_same_outcomes_bit_for_bit()
    {
        var options = new SwarmSimulationOptions { RateRequestsPerSecond = 0.5, Requests = 60, Seed = 11, FailureRatePerSecond = 0.005, RejoinAfterSeconds = 50 };
        var a = Run(Paper(), "petals", "ws-rr", options);
        var b = Run(Paper(), "petals", "ws-rr", options);
        Assert.Equal(a.Outcomes, b.Outcomes);
        Assert.Equal(a.MeanPerTokenSeconds, b.MeanPerTokenSeconds);
    }

    [Fact]
    public void A_lone_request_takes_exactly_its_shortest_path_time()
    {
        var instance = Paper();
        var result = Run(instance, "cg-bp", "shortest-path", new SwarmSimulationOptions { RateRequestsPerSecond = 0.01, Requests = 1 });
        var outcome = Assert.Single(result.Outcomes);
        Assert.Equal(outcome.FirstRouteCostSeconds, outcome.CompletionSeconds - outcome.ArrivalSeconds, 9);
        Assert.Equal(0, outcome.WaitSeconds);
    }

    [Theory]
    [InlineData(0.5, 128)]
    [InlineData(2.0, 64)]
    public void Ws_rr_path_cost_upper_bounds_the_simulated_completion_time(double rate, int output)
    {
        var instance = Paper(output: output);
        // Within CG-BP's R (the paper's condition); on an overloaded PETALS placement queued sessions also take the freed slots.
        foreach (var placement in new[] { "cg-bp" })
        {
            var result = Run(instance, placement, "ws-rr", new SwarmSimulationOptions { RateRequestsPerSecond = rate, Requests = 120, Seed = 5 });
            Assert.All(result.Outcomes, o =>
            {
                Assert.True(o.Completed);
                Assert.True(o.CompletionSeconds - o.ArrivalSeconds <= o.FirstRouteCostSeconds + 1e-6,
                    $"{placement}: request {o.Request} took {o.CompletionSeconds - o.ArrivalSeconds} s, WS-RR expected at most {o.FirstRouteCostSeconds} s");
            });
        }
    }

    [Fact]
    public void Sessions_wait_for_cache_slots_when_the_swarm_is_full()
    {
        // One A100 hosting every block, cache for few sessions: a burst must queue.
        var instance = SwarmLayout.Build(SwarmCostPresets.Bloom176bPaper(a100MemoryBytes: 95e9), ClusteredTopology.Create(), true, [SwarmCostPresets.A100], 1, 20, 128, 0);
        var placement = new SwarmPlacement([0], [70]);
        var slots = instance.CacheSlots(0, 70);
        var sessions = slots / 70;
        Assert.InRange(sessions, 1, 20);
        var result = new SwarmSimulator(instance, placement, new ConservativeGreedyPlacement(), new WaitingShortestPathRouting(),
            new SwarmSimulationOptions { RateRequestsPerSecond = 5, Requests = 3 * sessions }).Run();
        Assert.Equal(3 * sessions, result.Completed);
        Assert.True(result.MeanWaitSeconds > 0);
        Assert.Equal(0, result.SlotsInUseAtEnd);
    }

    [Fact]
    public void Ws_rr_counts_routed_but_waiting_sessions_ahead_of_a_newcomer()
    {
        // One server hosting every block with room for a few sessions and a burst three times that: every request
        // queues behind the ones routed before it, and WS-RR's expected time (wait + request) must be exact, neither
        // below (queued sessions ignored: a newcomer sees only the running ones) nor above.
        var instance = SwarmLayout.Build(SwarmCostPresets.Bloom176bPaper(a100MemoryBytes: 95e9), ClusteredTopology.Create(), true, [SwarmCostPresets.A100], 1, 20, 128, 0);
        var sessions = instance.CacheSlots(0, 70) / 70;
        var result = new SwarmSimulator(instance, new SwarmPlacement([0], [70]), new ConservativeGreedyPlacement(), new WaitingShortestPathRouting(),
            new SwarmSimulationOptions { RateRequestsPerSecond = 5, Requests = 3 * sessions, Seed = 4 }).Run();
        Assert.Equal(3 * sessions, result.Completed);
        Assert.True(result.Outcomes[^1].WaitSeconds > 100, "the last of the burst waits for two waves");
        Assert.All(result.Outcomes, o => Assert.Equal(o.FirstRouteCostSeconds, o.CompletionSeconds - o.ArrivalSeconds, 6));
    }

    [Theory]
    [InlineData(1.0, 1.0)]
    [InlineData(2.0, 0.97)]
    [InlineData(4.0, 0.97)]
    public void Ws_rr_is_no_worse_than_petals_routing_on_petals_placement_with_replicated_blocks(double rate, double maxRatio)
    {
        // GTS-CE, 20 servers (4 A100), 5 clients, 128 tokens: PETALS' own placement replicates blocks. Mean over five
        // seeds; WS-RR must not lose (and win by 3% or more at 2 and 4 req/s), nor win by an implausible margin.
        double petals = 0, wsrr = 0;
        for (var seed = 1; seed <= 5; seed++)
        {
            var network = BuiltInTopologies.Load("gtsce").ShortestPathLatencies();
            var instance = SwarmLayout.Build(SwarmCostPresets.Bloom176bPaper(), network, false,
                SwarmLayout.Mix(20, 0.2, SwarmCostPresets.A100, SwarmCostPresets.Mig, seed), 5, 20, 128, seed);
            var options = new SwarmSimulationOptions { RateRequestsPerSecond = rate, Requests = 100, Seed = seed };
            petals += Run(instance, "petals", "petals", options).MeanPerTokenSeconds;
            wsrr += Run(instance, "petals", "ws-rr", options).MeanPerTokenSeconds;
        }

        Assert.InRange(wsrr / petals, 0.5, maxRatio);
    }

    [Fact]
    public void Petals_waiting_fails_at_once_and_retries_instead_of_queueing()
    {
        // One server with every block and a burst beyond its cache: under PETALS' waiting nothing sits in a queue, the
        // late requests retry with back-off and so start later than exact queueing would start them.
        var big = SwarmLayout.Build(SwarmCostPresets.Bloom176bPaper(a100MemoryBytes: 95e9), ClusteredTopology.Create(), true, [SwarmCostPresets.A100], 1, 20, 128, 0);
        var instance = big.WithServers([.. big.Servers.Select(s => s with { Costs = s.Costs with { DeviceMemoryBytes = 100e9 } })]);
        var placement = new SwarmPlacement([0], [70]);
        var policy = new PetalsPlacement();
        var sessions = policy.CacheSlots(instance, 0, 70) / 70;
        var options = new SwarmSimulationOptions { RateRequestsPerSecond = 5, Requests = 3 * sessions, Seed = 4 };
        var retry = new SwarmSimulator(instance, placement, policy, new PetalsRouting(), options).Run();
        var queue = new SwarmSimulator(instance, placement, policy, new PetalsRouting(), options with { Waiting = SwarmWaiting.Queue }).Run();
        Assert.Equal(3 * sessions, retry.Completed);
        Assert.Equal(3 * sessions, queue.Completed);
        Assert.True(retry.MeanWaitSeconds > queue.MeanWaitSeconds, $"retry wait {retry.MeanWaitSeconds} s, queue wait {queue.MeanWaitSeconds} s");
        Assert.Equal(0, retry.SlotsInUseAtEnd);
    }

    [Fact]
    public void Paper_artefact_delays_add_their_constants_per_request()
    {
        var instance = Paper();
        var options = new SwarmSimulationOptions { RateRequestsPerSecond = 0.1, Requests = 20, Seed = 1 };
        var plain = Run(instance, "petals", "petals", options);
        var artefacts = Run(instance, "petals", "petals", options.WithPaperArtefacts());
        Assert.Equal(plain.MeanPerTokenSeconds + ((250 + 0.070) / 64), artefacts.MeanPerTokenSeconds, 6);
        var proposed = Run(instance, "cg-bp", "ws-rr", options.WithPaperArtefacts());
        Assert.Equal(Run(instance, "cg-bp", "ws-rr", options).MeanPerTokenSeconds + ((60 + 0.070) / 64), proposed.MeanPerTokenSeconds, 6);
    }

    [Fact]
    public void Losing_every_server_fails_requests_with_a_reason_instead_of_losing_them()
    {
        var instance = Paper();
        var churn = Enumerable.Range(0, instance.Servers.Count).Select(j => new ChurnEvent(1, j, ChurnKind.Fail)).ToArray();
        var result = Run(instance, "cg-bp", "ws-rr", new SwarmSimulationOptions { RateRequestsPerSecond = 1, Requests = 10, Churn = churn, MaxRetries = 3 });
        Assert.Equal(10, result.Outcomes.Count);
        Assert.True(result.Failed > 0);
        Assert.All(result.Outcomes.Where(o => !o.Completed), o => Assert.Contains("retries", o.FailureReason!, StringComparison.Ordinal));
        Assert.Equal(0, result.SlotsInUseAtEnd);
    }

    [Theory]
    [InlineData("clustered", 9)]
    [InlineData("gtsce", 26)]
    public void Theorem_two_bound_holds_for_every_simulated_decode_step_when_the_load_is_within_r(string topology, int servers)
    {
        var instance = Paper(servers, 128, topology);
        var plan = new ConservativeGreedyPlacement().Place(instance, 0.2);
        var result = new SwarmSimulator(instance, plan.Placement, new ConservativeGreedyPlacement(), new WaitingShortestPathRouting(),
            new SwarmSimulationOptions { RateRequestsPerSecond = 0.2, Requests = 100, Seed = 2 }).Run();
        Assert.All(result.Outcomes, o =>
        {
            var decodeStepSeconds = (o.CompletionSeconds - o.FirstTokenSeconds) / (o.OutputTokens - 1);
            Assert.True(decodeStepSeconds <= plan.BoundSecondsPerToken!.Value + 1e-9, $"request {o.Request}: {decodeStepSeconds} s per step, bound {plan.BoundSecondsPerToken}");
        });
    }
}
