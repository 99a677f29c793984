using Strata.Performance.Profiles;
using Strata.Simulation.Live;

namespace Strata.Simulation.Tests.Live;

public sealed class LoopbackClusterPredictorTests
{
    private static RuntimeProfile Profile(double slowdownAtTwo) => new()
    {
        Model = "m",
        LayerCount = 4,
        Machine = "test",
        Repetitions = 3,
        WarmupIterations = 0,
        PrefillSecondsPerBlock = [new(1, 2e-3)],
        DecodeSecondsPerBlock = [new(1, 1e-3)],
        HeadPrefillSeconds = 3e-3,
        HeadDecodeSeconds = 2e-3,
        HopOverheadSeconds = 5e-4,
        ConcurrencySlowdown = [new(1, 1), new(2, slowdownAtTwo)],
    };

    [Fact]
    public void One_session_takes_the_sum_of_its_phases()
    {
        var plan = new LiveSessionPlan([(2, 0.02), (2, 0.05)], 1, 3);
        var p = LoopbackClusterPredictor.Predict(Profile(2), [plan]).Single();
        // Closed form: routing 2 h; prefill per hop h + 2 x 2 ms plus its RTT; head 3 ms.
        const double h = 5e-4;
        var ttft = (2 * h) + (h + 4e-3 + 0.02) + (h + 4e-3 + 0.05) + 3e-3;
        var step = (h + 2e-3 + 0.02) + (h + 2e-3 + 0.05) + 2e-3;
        var close = h + 0.05;
        Assert.Equal(ttft, p.TtftSeconds, 12);
        Assert.Equal(ttft + (2 * step) + close, p.E2eSeconds, 12);
        Assert.Equal(((2 * step) + close) / 2, p.TpotSeconds, 12);
    }

    [Fact]
    public void Concurrent_sessions_share_the_cores_only_while_they_compute()
    {
        var computeOnly = new LiveSessionPlan([(4, 0)], 1, 2);
        var alone = LoopbackClusterPredictor.Predict(Profile(2), [computeOnly]).Single();
        var pair = LoopbackClusterPredictor.Predict(Profile(2), [computeOnly, computeOnly]);
        Assert.All(pair, p => Assert.Equal(2 * alone.E2eSeconds, p.E2eSeconds, 12)); // processor sharing, slowdown 2
        var free = LoopbackClusterPredictor.Predict(Profile(1), [computeOnly, computeOnly]);
        Assert.All(free, p => Assert.Equal(alone.E2eSeconds, p.E2eSeconds, 12)); // no slowdown: as alone

        // Long waits dominate: the shared compute slows the pair by far less than 2x.
        var waiting = new LiveSessionPlan([(4, 0.5)], 1, 2);
        var waitingAlone = LoopbackClusterPredictor.Predict(Profile(2), [waiting]).Single().E2eSeconds;
        Assert.InRange(LoopbackClusterPredictor.Predict(Profile(2), [waiting, waiting])[0].E2eSeconds, waitingAlone, waitingAlone * 1.1);
    }

    // The batching model's profile: every cost chosen so that a closed form follows.
    private static RuntimeProfile Batched(double hop = 0, double prefill = 0, double decode = 1e-3, double head = 0, double batchCostAtFour = 4, int processors = 2, double waitSeconds = 0, double returnWaitSeconds = 0) => new()
    {
        Model = "m",
        LayerCount = 4,
        Machine = "test",
        Repetitions = 3,
        WarmupIterations = 0,
        PrefillSecondsPerBlock = [new(1, prefill)],
        DecodeSecondsPerBlock = [new(1, decode)],
        HeadPrefillSeconds = head,
        HeadDecodeSeconds = head,
        HopOverheadSeconds = hop,
        ConcurrencySlowdown = [new(1, 1), new(4, 99)], // ignored by the batching model
        DecodeBatchCost = [new(1, 1), new(4, batchCostAtFour)],
        LogicalProcessors = processors,
        DecodeBatchWaitSeconds = waitSeconds,
        DecodeReturnWaitSeconds = returnWaitSeconds,
    };

    [Fact]
    public void Batching_model_one_session_takes_the_sum_of_its_phases_and_waits_for_a_batch_only_on_each_servers_first_step()
    {
        const double h = 5e-4, pre = 2e-3, dec = 1e-3, head = 3e-3, wait = 2e-3;
        var profile = Batched(hop: h, prefill: pre, decode: dec, head: head, waitSeconds: wait);
        var plan = new LiveSessionPlan([(2, 0.02), (2, 0.05)], 1, 4, ["a", "b"]);
        var p = LoopbackClusterPredictor.Predict(profile, [plan]).Single();
        var ttft = (2 * h) + (h + (2 * pre) + 0.02) + (h + (2 * pre) + 0.05) + head;
        var step = (h + (2 * dec) + 0.02) + (h + (2 * dec) + 0.05) + head;
        var close = h + 0.05;
        Assert.Equal(ttft, p.TtftSeconds, 12);
        Assert.Equal(ttft + (3 * step) + (2 * wait) + close, p.E2eSeconds, 12); // the batchers' first steps wait; a lone session then skips the window
    }

    [Theory]
    [InlineData(1.0)] // a batch of four costs one step: full batching gain
    [InlineData(2.5)]
    [InlineData(4.0)] // no gain: as four steps in turn
    public void Batching_model_m_identical_sessions_step_in_lockstep_batches_priced_by_the_batch_cost(double batchCostAtFour)
    {
        const double dec = 1e-3;
        const int blocks = 3, tokens = 5;
        var profile = Batched(decode: dec, batchCostAtFour: batchCostAtFour); // no prefill, head or hop cost: decode alone
        var plan = new LiveSessionPlan([(blocks, 0)], 1, tokens, ["a"]);
        var predictions = LoopbackClusterPredictor.Predict(profile, [plan, plan, plan, plan]);
        // Every token is one batch of the four sessions' steps.
        var e2e = (tokens - 1) * blocks * dec * batchCostAtFour;
        Assert.All(predictions, p => Assert.Equal(0, p.TtftSeconds, 12));
        Assert.All(predictions, p => Assert.Equal(e2e, p.E2eSeconds, 12));

        // The batches it ran: one per token after the first, each of the four sessions.
        var batches = Assert.Single(LoopbackClusterPredictor.PredictWithBatches(profile, [plan, plan, plan, plan]).Servers);
        Assert.Equal(new LiveServerBatches("a", tokens - 1, 4 * (tokens - 1)), batches);
        Assert.Equal(4, batches.RowsPerStep);
    }

    [Fact]
    public void Batching_model_waits_for_the_sessions_predicted_back_and_fills_the_steps_the_window_alone_splits()
    {
        // Four sessions whose round trips differ by 1 ms each come back to the server spread over 3 ms, more than the 0.5 ms
        // window. A step of one row costs 4 blocks x 2.5 ms = 10 ms, so the batcher waits at most 5 ms for those predicted back.
        const double dec = 2.5e-3, window = 0.5e-3;
        const int blocks = 4;
        LiveSessionPlan Plan(int session, int tokens) => new([(blocks, session * 1e-3)], 1, tokens, ["a"]);
        double[] Marginal(RuntimeProfile profile) // e2e of one token more: one steady cycle of the server
        {
            var shorter = LoopbackClusterPredictor.Predict(profile, [.. Enumerable.Range(0, 4).Select(s => Plan(s, 30))]);
            var longer = LoopbackClusterPredictor.Predict(profile, [.. Enumerable.Range(0, 4).Select(s => Plan(s, 31))]);
            return [.. shorter.Zip(longer, (a, b) => b.E2eSeconds - a.E2eSeconds)];
        }

        // With the return wait: every step holds the four, starting when the last is back (3 ms after the first): a cycle
        // is the batch of four (4 x 2.5 ms x 1.6) plus the 3 ms spread, for every session.
        var withReturn = Marginal(Batched(decode: dec, batchCostAtFour: 1.6, waitSeconds: window, returnWaitSeconds: 0.02));
        Assert.All(withReturn, m => Assert.Equal((blocks * dec * 1.6) + 3e-3, m, 9));

        // The window alone splits them (the first runs alone, the others after it): fewer tokens per second in all (the
        // first session, never waiting, alone gets its tokens sooner).
        var windowOnly = Marginal(Batched(decode: dec, batchCostAtFour: 1.6, waitSeconds: window));
        Assert.True(windowOnly.Average() > withReturn.Average() + 1e-3, $"window only {string.Join(", ", windowOnly)} s per token, with the return wait {withReturn.Average()} s");
    }

    [Fact]
    public void Batching_model_one_thread_jobs_share_the_processors_only_beyond_their_count()
    {
        // Only hop overheads (one thread each) cost anything: two sessions fit the two processors, four take twice as long.
        var profile = Batched(hop: 1e-3, decode: 0);
        var plan = new LiveSessionPlan([(4, 0)], 1, 6, ["a"]);
        var alone = LoopbackClusterPredictor.Predict(profile, [plan]).Single().E2eSeconds;
        Assert.Equal(alone, LoopbackClusterPredictor.Predict(profile, [plan, plan]).Max(p => p.E2eSeconds), 12);
        Assert.Equal(2 * alone, LoopbackClusterPredictor.Predict(profile, [plan, plan, plan, plan]).Max(p => p.E2eSeconds), 12);

        // Heads run on every processor: m concurrent heads take m times as long.
        var heads = Batched(head: 1e-3, decode: 0);
        var headAlone = LoopbackClusterPredictor.Predict(heads, [plan]).Single().E2eSeconds;
        Assert.Equal(3 * headAlone, LoopbackClusterPredictor.Predict(heads, [plan, plan, plan]).Max(p => p.E2eSeconds), 12);
    }

    [Fact]
    public void Batching_model_never_beats_one_session_alone_and_grows_with_the_round_trip()
    {
        var profile = Batched(hop: 4e-4, prefill: 1.5e-3, decode: 6e-4, head: 2e-3, batchCostAtFour: 1.8, waitSeconds: 2e-3) with
        {
            DecodeSecondsPerBlock = [new(2, 5e-4), new(64, 8e-4)],
        };
        // Any number of sessions takes at least as long as one alone. (More sessions need not take longer on average: 3
        // can finish later than 4, as two start their prefills first and the third falls out of step with them, so its
        // decode steps batch with nobody; sessions out of step also skip the batch window.)
        foreach (var rtt in new[] { 0, 0.02, 0.05 })
        {
            var alone = LoopbackClusterPredictor.Predict(profile, [new LiveSessionPlan([(6, rtt), (6, rtt)], 16, 32, ["a", "b"])]).Single().E2eSeconds;
            foreach (var m in new[] { 1, 2, 4, 6, 8 })
            {
                // One route for all (sessions split over replicas may finish sooner on average: a replica's batch window
                // idles the cores that the other replica's step then has alone).
                var plans = Enumerable.Range(0, m).Select(_ => new LiveSessionPlan([(6, rtt), (6, rtt)], 16, 32, ["a", "b"])).ToArray();
                var e2e = LoopbackClusterPredictor.Predict(profile, plans).Average(p => p.E2eSeconds);
                Assert.True(e2e >= alone - 1e-12, $"{m} sessions at {rtt} s: {e2e} < {alone}");
                var odd = LoopbackClusterPredictor.Predict(profile, [.. plans, plans[0]]).Average(p => p.E2eSeconds);
                Assert.True(odd >= alone - 1e-12, $"{m + 1} sessions at {rtt} s: {odd} < {alone}");
            }
        }

        foreach (var m in new[] { 1, 4 })
        {
            var previous = 0.0;
            foreach (var rtt in new[] { 0, 0.001, 0.005, 0.02, 0.05 })
            {
                var plans = Enumerable.Range(0, m).Select(_ => new LiveSessionPlan([(6, rtt), (6, rtt)], 16, 32, ["a", "b"])).ToArray();
                var predictions = LoopbackClusterPredictor.Predict(profile, plans);
                var e2e = predictions.Average(p => p.E2eSeconds);
                Assert.True(e2e >= previous, $"{m} sessions at {rtt} s: {e2e} < {previous}");
                Assert.All(predictions, p => Assert.True(p.TtftSeconds > 0 && p.TpotSeconds > 0 && p.E2eSeconds > p.TtftSeconds));
                previous = e2e;
            }
        }
    }

    [Fact]
    public void Batching_model_prices_spot_checks_in_expectation_on_hops_with_a_replica_only()
    {
        const double h = 5e-4, pre = 2e-3, replicaRtt = 0.03, f = 0.25;
        const int tokens = 6;
        var profile = Batched(hop: h, prefill: pre, decode: 1e-3, head: 1e-3);
        var plain = new LiveSessionPlan([(2, 0.02), (3, 0.01)], 4, tokens, ["a", "b"]);
        var baseline = LoopbackClusterPredictor.Predict(profile, [plain]).Single();
        var noReplica = LoopbackClusterPredictor.Predict(profile, [plain with { VerifyFraction = f, ReplicaRttSeconds = [double.NaN, double.NaN] }]).Single();
        Assert.Equal(baseline, noReplica); // nowhere to check: nothing changes

        // The second hop has a replica: the prefill step and each of the tokens - 1 decode steps pay f of a hop overhead,
        // of the replica's replay (1 / f rows; the flat prefill curve prices any rows alike) and of its round trip.
        var checkedPlan = plain with { VerifyFraction = f, ReplicaRttSeconds = [double.NaN, replicaRtt] };
        var p = LoopbackClusterPredictor.Predict(profile, [checkedPlan]).Single();
        var check = f * (h + (3 * pre) + replicaRtt);
        Assert.Equal(baseline.TtftSeconds + check, p.TtftSeconds, 12);
        Assert.Equal(baseline.E2eSeconds + (tokens * check), p.E2eSeconds, 12);
    }

    [Fact]
    public void Batching_model_starts_prefills_in_turn_one_per_processor()
    {
        const double pre = 2e-3;
        const int blocks = 3;
        var plan = new LiveSessionPlan([(blocks, 0)], 1, 2, ["a"]);
        var profile = Batched(prefill: pre, decode: 0);
        var one = blocks * pre;
        Assert.Equal(one, LoopbackClusterPredictor.Predict(profile, [plan]).Single().TtftSeconds, 12);

        // Two processors: two prefills share them (each twice as long); of four, the first two finish at 2x, the last two at 4x.
        Assert.All(LoopbackClusterPredictor.Predict(profile, [plan, plan]), p => Assert.Equal(2 * one, p.TtftSeconds, 12));
        Assert.Equal([2 * one, 2 * one, 4 * one, 4 * one], LoopbackClusterPredictor.Predict(profile, [plan, plan, plan, plan]).Select(p => Math.Round(p.TtftSeconds / one, 9) * one));
        Assert.Equal(3 * one, LoopbackClusterPredictor.Predict(profile, [plan, plan, plan, plan]).Average(p => p.TtftSeconds), 12); // (k + P) / 2

        // The round trip overlaps: the first pair's wait runs while the second pair computes.
        var waiting = new LiveSessionPlan([(blocks, 4 * one)], 1, 2, ["a"]);
        var ttfts = LoopbackClusterPredictor.Predict(profile, [waiting, waiting, waiting, waiting]).Select(p => p.TtftSeconds).ToArray();
        Assert.Equal(6 * one, ttfts[0], 12);
        Assert.Equal(4 * one + 4 * one, ttfts[3], 12);
    }

    [Theory]
    [InlineData(2.4, 1.6)] // four at once measured at 2.4x one: each asks 1.6 processors, waves of two take 1.6x
    [InlineData(3.0, 2.0)] // the rule without a measurement: all processors each
    [InlineData(3.6, 2.0)] // slower than an even split of the waves: capped at every processor
    [InlineData(1.2, 1.0)] // faster than one processor each allows: at least one
    public void Batching_model_sets_a_prefills_processors_from_the_measured_concurrent_prefills(double measuredAtFour, double processors)
    {
        const double pre = 2e-3;
        const int blocks = 3;
        var plan = new LiveSessionPlan([(blocks, 0)], 1, 2, ["a"]);
        var profile = Batched(prefill: pre, decode: 0) with { PrefillConcurrency = [new(1, 1), new(2, 1.5), new(4, measuredAtFour)] };
        Assert.Equal(processors, LoopbackClusterPredictor.PrefillProcessors(profile, 2), 12);

        // Alone it runs at full speed; four at once finish in two waves of `processors` times one prefill each.
        var one = blocks * pre;
        Assert.Equal(one, LoopbackClusterPredictor.Predict(profile, [plan]).Single().TtftSeconds, 12);
        var four = LoopbackClusterPredictor.Predict(profile, [plan, plan, plan, plan]).Select(p => p.TtftSeconds).Order().ToArray();
        Assert.Equal([processors * one, processors * one, 2 * processors * one, 2 * processors * one], four.Select(t => Math.Round(t / one, 9) * one));
        Assert.Equal(Math.Clamp(measuredAtFour, 1.5, 3) * one, four.Average(), 12);
    }
}
