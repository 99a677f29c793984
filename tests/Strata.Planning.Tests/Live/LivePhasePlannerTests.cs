using Strata.Core.Identity;
using Strata.Core.Placement;
using Strata.Core.Workload;
using Strata.Planning.Live;
using Strata.Planning.Pools;

namespace Strata.Planning.Tests.Live;

public sealed class LivePhasePlannerTests
{
    private const long Capacity = 1 << 20;
    private static readonly LiveRouteOptions Options = new();
    private static readonly SplitwiseScheduler Scheduler = new();
    private static readonly LiveRouteRequest Request = new(BlockRange.All(4), ServerPhase.Both, 0, 512, 64);

    private static LiveServer Server(string id, int first, int count, ServerPhase phase, long promptTokens = 0, long decodeTokens = 0, double kvUsed = 0) =>
        new(id, new BlockRange(first, count), phase, (long)Math.Round((1 - kvUsed) * Capacity), 0, 0, 0, 0)
        {
            KvCapacityBytes = Capacity,
            PendingPromptTokens = promptTokens,
            PendingDecodeTokens = decodeTokens,
        };

    // The oracle: the simulator's scheduler, called directly on a view written out by hand.
    private static RouteDecision Oracle(params (MachineRole Role, long PromptTokens, long DecodeTokens, double KvUtilization)[] machines) =>
        Scheduler.Route(new InferenceRequest(new RequestId(0), 0, Request.PromptTokens, Request.OutputTokens), new HandView(machines));

    private static string[] Ids(LiveRoute route) => [.. route.Hops.Select(h => h.Server.Id)];

    [Fact]
    public void Idle_pools_split_the_request_between_the_prompt_chain_and_the_token_chain()
    {
        var plan = LivePhasePlanner.Plan([Server("p", 0, 4, ServerPhase.Prefill), Server("d", 0, 4, ServerPhase.Decode)], Request, null, Options, Scheduler)!;
        Assert.Equal(new RouteDecision(0, 1), Oracle((MachineRole.Prompt, 0, 0, 0), (MachineRole.Token, 0, 0, 0)));
        Assert.Equal(PhaseDecision.Split, plan.Decision);
        Assert.True(plan.Transfers);
        Assert.Equal(["p"], Ids(plan.Prefill));
        Assert.Equal(["d"], Ids(plan.Decode));
    }

    [Theory]
    [InlineData(8193, 100, PhaseDecision.Mixed)] // past the threshold, the token chain's prompt queue shorter: borrowed
    [InlineData(8192, 100, PhaseDecision.Split)] // at the threshold: not past it
    [InlineData(9000, 9000, PhaseDecision.Split)] // the token chain is queued as long: nothing gained
    public void A_prompt_chain_queued_past_the_threshold_runs_the_request_whole_on_the_token_chain(long queuedTokens, long tokenChainQueue, PhaseDecision expected)
    {
        // The prompt chain's queue is its most queued hop's (p1), however idle p2 is.
        LiveServer[] servers =
        [
            Server("p1", 0, 2, ServerPhase.Prefill, promptTokens: queuedTokens), Server("p2", 2, 2, ServerPhase.Prefill),
            Server("d", 0, 4, ServerPhase.Decode, promptTokens: tokenChainQueue, decodeTokens: 700),
        ];
        var plan = LivePhasePlanner.Plan(servers, Request, null, Options, Scheduler)!;
        var oracle = Oracle((MachineRole.Prompt, queuedTokens, 0, 0), (MachineRole.Token, tokenChainQueue, 700, 0));
        Assert.Equal(expected, plan.Decision);
        Assert.Equal(expected == PhaseDecision.Mixed ? new RouteDecision(1, 1) : new RouteDecision(0, 1), oracle);
        Assert.Equal(expected == PhaseDecision.Mixed ? ["d"] : ["p1", "p2"], Ids(plan.Prefill));
        Assert.Equal(["d"], Ids(plan.Decode));
    }

    [Theory]
    [InlineData(0.97, 0.0, PhaseDecision.PromptDecodes)] // the token chain is full, the prompt chain is not: it decodes
    [InlineData(0.95, 0.0, PhaseDecision.Split)] // at the threshold: not past it
    [InlineData(0.97, 0.96, PhaseDecision.Split)] // both full: keeping the request gains nothing
    public void A_token_chain_past_the_kv_threshold_lets_the_prompt_chain_decode(double tokenKv, double promptKv, PhaseDecision expected)
    {
        LiveServer[] servers =
        [
            Server("p", 0, 4, ServerPhase.Prefill, kvUsed: promptKv),
            Server("d1", 0, 3, ServerPhase.Decode), Server("d2", 3, 1, ServerPhase.Decode, kvUsed: tokenKv),
        ];
        var plan = LivePhasePlanner.Plan(servers, Request, null, Options, Scheduler)!;
        var oracle = Oracle((MachineRole.Prompt, 0, 0, promptKv), (MachineRole.Token, 0, 0, tokenKv));
        Assert.Equal(expected, plan.Decision);
        Assert.Equal(expected == PhaseDecision.PromptDecodes ? new RouteDecision(0, 0) : new RouteDecision(0, 1), oracle);
        Assert.Equal(["p"], Ids(plan.Prefill));
        Assert.Equal(expected == PhaseDecision.PromptDecodes ? ["p"] : ["d1", "d2"], Ids(plan.Decode));
    }

    [Fact]
    public void An_empty_pool_leaves_the_whole_request_to_the_other_as_the_scheduler_falls_back()
    {
        var prefillOnly = LivePhasePlanner.Plan([Server("p", 0, 4, ServerPhase.Prefill)], Request, null, Options, Scheduler)!;
        Assert.Equal(new RouteDecision(0, 0), Oracle((MachineRole.Prompt, 0, 0, 0)));
        Assert.Equal(PhaseDecision.PromptDecodes, prefillOnly.Decision);
        Assert.Same(prefillOnly.Prefill, prefillOnly.Decode);
        Assert.Equal(["p"], Ids(prefillOnly.Prefill));

        var decodeOnly = LivePhasePlanner.Plan([Server("d", 0, 4, ServerPhase.Decode)], Request, null, Options, Scheduler)!;
        Assert.Equal(new RouteDecision(0, 0), Oracle((MachineRole.Token, 0, 0, 0)));
        Assert.Equal(PhaseDecision.Mixed, decodeOnly.Decision);
        Assert.Same(decodeOnly.Prefill, decodeOnly.Decode);
        Assert.Equal(["d"], Ids(decodeOnly.Prefill));
        Assert.False(decodeOnly.Transfers);

        // A pool with a gap is as good as empty; no pool at all is no plan.
        var gap = LivePhasePlanner.Plan([Server("p", 0, 2, ServerPhase.Prefill), Server("d", 0, 4, ServerPhase.Decode)], Request, null, Options, Scheduler)!;
        Assert.Equal(PhaseDecision.Mixed, gap.Decision);
        Assert.Null(LivePhasePlanner.Plan([Server("p", 0, 2, ServerPhase.Prefill)], Request, null, Options, Scheduler));
    }

    [Fact]
    public void The_plan_matches_the_scheduler_on_the_chains_as_machines_over_random_snapshots()
    {
        var random = new Random(11);
        var seen = new Dictionary<PhaseDecision, int>();
        for (var instance = 0; instance < 2000; instance++)
        {
            var servers = new List<LiveServer>();
            var count = random.Next(1, 7);
            for (var s = 0; s < count; s++)
            {
                var first = random.Next(0, 4);
                var phase = (ServerPhase)random.Next(0, 3);
                var server = Server($"s{s}", first, random.Next(1, 5 - first), phase, promptTokens: random.Next(0, 3) * 5000L, decodeTokens: random.Next(0, 1000),
                    kvUsed: random.Next(0, 3) == 0 ? 0.99 : random.NextDouble() * 0.9);
                servers.Add(server with { OpenSessions = random.Next(0, 4) });
            }

            var plan = LivePhasePlanner.Plan(servers, Request, null, Options, Scheduler);
            var prefill = LiveRouting.Route(servers, Request with { Phase = ServerPhase.Prefill }, null, Options);
            var decode = LiveRouting.Route(servers, Request with { Phase = ServerPhase.Decode }, null, Options);
            var chains = new[] { (Route: prefill, Role: MachineRole.Prompt), (Route: decode, Role: MachineRole.Token) }.Where(c => c.Route is not null).ToArray();
            if (chains.Length == 0)
            {
                Assert.Null(plan);
                continue;
            }

            var oracle = Oracle([.. chains.Select(c => (c.Role, c.Route!.Hops.Max(h => h.Server.PendingPromptTokens), c.Route.Hops.Max(h => h.Server.PendingDecodeTokens),
                c.Route.Hops.Max(h => 1 - ((double)h.Server.FreeKvBytes / Capacity))))]);
            Assert.NotNull(plan);
            var expected = oracle.Transfers ? PhaseDecision.Split : chains[oracle.PrefillMachine].Role == MachineRole.Prompt ? PhaseDecision.PromptDecodes : PhaseDecision.Mixed;
            var context = $"instance {instance}: {string.Join("; ", servers)}";
            Assert.True(expected == plan.Decision, $"{context}: expected {expected}, planned {plan.Decision}");
            Assert.Equal(Ids(chains[oracle.PrefillMachine].Route!), Ids(plan.Prefill));
            Assert.Equal(Ids(chains[oracle.DecodeMachine].Route!), Ids(plan.Decode));
            seen[plan.Decision] = seen.GetValueOrDefault(plan.Decision) + 1;
        }

        // The mix is not trivial: every decision is taken many times.
        Assert.All(Enum.GetValues<PhaseDecision>(), d => Assert.True(seen.GetValueOrDefault(d) >= 100, $"{d}: {seen.GetValueOrDefault(d)} of 2000"));
    }

    [Fact]
    public void Kv_utilization_counts_pending_sessions_as_reserved_and_an_unknown_capacity_as_empty()
    {
        var server = Server("a", 0, 2, ServerPhase.Decode, kvUsed: 0.5) with { PendingSessions = 2 };
        Assert.Equal(0.5 + (2.0 * 2 * 1024 / Capacity), server.KvUtilization(1024), 12);
        Assert.Equal(1, server.KvUtilization(Capacity)); // clamped
        Assert.Equal(0, (server with { KvCapacityBytes = 0 }).KvUtilization(1024));
    }

    private sealed class HandView((MachineRole Role, long PromptTokens, long DecodeTokens, double KvUtilization)[] machines) : IClusterView
    {
        public int MachineCount => machines.Length;

        public MachineRole Role(int machine) => machines[machine].Role;

        public long PendingPromptTokens(int machine) => machines[machine].PromptTokens;

        public long PendingDecodeTokens(int machine) => machines[machine].DecodeTokens;

        public double KvUtilization(int machine) => machines[machine].KvUtilization;
    }
}
