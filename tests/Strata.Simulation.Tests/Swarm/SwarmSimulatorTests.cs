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
    public void Paper_artefact_delays_add_their_constants_per_request_when_nothing_waits()
    {
        // One request alone: nothing can queue behind it, so the held delays add exactly their constants.
        var instance = Paper();
        var options = new SwarmSimulationOptions { RateRequestsPerSecond = 0.1, Requests = 1, Seed = 1 };
        var plain = Run(instance, "petals", "petals", options);
        var artefacts = Run(instance, "petals", "petals", options.WithPaperArtefacts());
        Assert.Equal(plain.MeanPerTokenSeconds + ((250 + 0.070) / 64), artefacts.MeanPerTokenSeconds, 1e-9);
        Assert.Equal(plain.MeanTtftSeconds + 250 + 0.070, artefacts.MeanTtftSeconds, 1e-9);
        var proposed = Run(instance, "cg-bp", "ws-rr", options.WithPaperArtefacts());
        Assert.Equal(Run(instance, "cg-bp", "ws-rr", options).MeanPerTokenSeconds + ((60 + 0.070) / 64), proposed.MeanPerTokenSeconds, 1e-9);
    }

    [Theory]
    [InlineData(0, 0)]
    [InlineData(0.5, 1)]
    [InlineData(1, 1)]
    [InlineData(1.01, 3)]
    [InlineData(3, 3)]
    [InlineData(4, 7)]
    [InlineData(40, 63)]
    [InlineData(64, 123)]
    [InlineData(123, 123)]
    [InlineData(124, 183)]
    public void Retry_schedule_rounds_a_wait_up_to_petals_cumulative_back_off(double waitSeconds, double expectedSeconds)
    {
        // Retries 1, 2, 4, 8, 16, 32, then 60 s apart: cumulative 1, 3, 7, 15, 31, 63, 123, 183, ... s.
        Assert.Equal(expectedSeconds, SwarmSimulationOptions.RetryScheduleSeconds(waitSeconds), 9);
    }

    [Fact]
    public void Paper_artefact_delays_hold_the_cache_so_the_next_session_waits_through_them_and_starts_on_a_retry()
    {
        // One A100 with every block and cache for exactly one session (70 session-block slots). Two requests close
        // together: the second waits for the first's completion, which under the artefacts includes the first's held 60.07 s;
        // it then starts its own work at the next retry of the back-off schedule (1, 3, 7, ... s after its arrival).
        var costs = SwarmCostPresets.Bloom176bPaper();
        var slotBytes = costs.CacheBytesPerBlockPerToken * (20 + 128);
        var one = SwarmLayout.Build(SwarmCostPresets.Bloom176bPaper(a100MemoryBytes: (70 * costs.BlockBytes) + (70.5 * slotBytes)), ClusteredTopology.Create(), true, [SwarmCostPresets.A100], 1, 20, 128, 0);
        IPlacementPolicy policy = new ConservativeGreedyPlacement();
        Assert.Equal(70, policy.CacheSlots(one, 0, 70));
        var placement = new SwarmPlacement([0], [70]);
        var options = new SwarmSimulationOptions { RateRequestsPerSecond = 1, Requests = 2, Seed = 5 };
        var plain = new SwarmSimulator(one, placement, policy, new WaitingShortestPathRouting(), options).Run().Outcomes;
        var paper = new SwarmSimulator(one, placement, policy, new WaitingShortestPathRouting(), options.WithPaperArtefacts()).Run().Outcomes;
        var service = plain[0].CompletionSeconds - plain[0].ArrivalSeconds;
        Assert.Equal(0, plain[0].WaitSeconds);
        Assert.True(plain[1].ArrivalSeconds < plain[0].CompletionSeconds, "the second request must arrive while the first runs");

        // Without artefacts the second starts the moment the first releases.
        Assert.Equal(plain[0].CompletionSeconds, plain[1].FirstStartSeconds, 9);
        Assert.Equal(plain[0].CompletionSeconds + service, plain[1].CompletionSeconds, 9);

        // With them: the first holds its slots for 60.07 s more; the second takes them then and works from its next retry.
        var delay = SwarmSimulationOptions.PaperProposedAllocationDelaySeconds + SwarmSimulationOptions.PaperInitialDelaySeconds;
        Assert.Equal(plain[0].ArrivalSeconds + delay + service, paper[0].CompletionSeconds, 9);
        Assert.Equal(paper[0].CompletionSeconds, paper[1].FirstStartSeconds, 9);
        var waited = paper[0].CompletionSeconds - paper[1].ArrivalSeconds;
        var retry = SwarmSimulationOptions.RetryScheduleSeconds(waited);
        Assert.True(retry > waited, $"waited {waited} s, retried at {retry} s");
        Assert.Equal(paper[1].ArrivalSeconds + retry + delay + service, paper[1].CompletionSeconds, 9);
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
