using Grpc.Core;
using Strata.Core.Identity;
using Strata.Core.Workload;
using Strata.Planning.Pools;
using Strata.Runtime.Coordination;
using Strata.Runtime.Protocol;

namespace Strata.Runtime.Tests.Coordination;

[Trait("Category", "Integration")]
public sealed class PhasePlanTests
{
    private const long Capacity = 1 << 20;

    private static RegisterRequest Registration(string id, ServerRole role, long freeKvBytes = Capacity, long capacity = Capacity) => new()
    {
        ServerId = id,
        Url = $"http://127.0.0.1:{(role == ServerRole.Prefill ? 50001 : 50002)}",
        ModelName = "tiny",
        LayerCount = 4,
        FirstBlock = 0,
        BlockCount = 4,
        Role = role,
        FreeKvBytes = freeKvBytes,
        KvCapacityBytes = capacity,
    };

    private static RouteRequest Request(int promptTokens, int outputTokens) => new()
    {
        ModelName = "tiny",
        LayerCount = 4,
        PromptTokens = promptTokens,
        OutputTokens = outputTokens,
    };

    [Fact]
    public async Task Runtime_and_simulator_choose_the_same_phase_plan_for_the_same_snapshot()
    {
        // The runtime: a coordinator with a prefill server "p" and a decode server "d" (the registry's clock stands still,
        // so that nothing expires). The simulator: SplitwiseScheduler, called as ClusterSimulator.Arrive calls it, over the
        // same two machines, whose loads it books as Arrive does (prompt tokens to the prefill machine, output tokens
        // after the first to the decode machine) and clears as a heartbeat clears the coordinator's pending counts.
        await using var coordinator = await CoordinatorHost.StartAsync(timeProvider: new ManualTimeProvider());
        using var client = new CoordinatorClient(coordinator.Address);
        var secrets = new Dictionary<string, string>
        {
            ["p"] = (await client.RegisterAsync(Registration("p", ServerRole.Prefill))).ServerSecret,
            ["d"] = (await client.RegisterAsync(Registration("d", ServerRole.Decode))).ServerSecret,
        };
        string[] ids = ["p", "d"];
        var scheduler = new SplitwiseScheduler();
        var view = new BookedView([MachineRole.Prompt, MachineRole.Token]);
        var seen = new HashSet<PhaseDecision>();

        async Task ArriveAsync(int promptTokens, int outputTokens, PhaseDecision expected)
        {
            var request = new InferenceRequest(new RequestId(0), 0, promptTokens, outputTokens);
            var simulated = scheduler.Route(request, view);
            var planned = await client.PlanPhasesAsync(Request(promptTokens, outputTokens));
            var simulatedDecision = simulated.Transfers ? PhaseDecision.Split : simulated.PrefillMachine == 0 ? PhaseDecision.PromptDecodes : PhaseDecision.Mixed;
            Assert.Equal(expected, simulatedDecision);
            Assert.Equal(simulatedDecision, planned.Decision);
            Assert.Equal([ids[simulated.PrefillMachine]], planned.Prefill.Hops.Select(h => h.ServerId));
            Assert.Equal([ids[simulated.DecodeMachine]], planned.Decode.Hops.Select(h => h.ServerId));
            view.Prompt[simulated.PrefillMachine] += request.PromptTokens;
            view.Decode[simulated.DecodeMachine] += request.OutputTokens - 1;
            seen.Add(planned.Decision);
        }

        async Task HeartbeatAsync(int machine, long freeKvBytes)
        {
            Assert.True(await client.HeartbeatAsync(new HeartbeatRequest { ServerId = ids[machine], FreeKvBytes = freeKvBytes, ServerSecret = secrets[ids[machine]] }));
            (view.Prompt[machine], view.Decode[machine], view.Kv[machine]) = (0, 0, 1 - ((double)freeKvBytes / Capacity));
        }

        // Idle pools: split, until p's prompt queue passes 4 x 2,048 tokens.
        await ArriveAsync(3000, 65, PhaseDecision.Split);
        await ArriveAsync(3000, 65, PhaseDecision.Split);
        await ArriveAsync(3000, 65, PhaseDecision.Split);
        // p has 9,000 prompt tokens queued, d none: d runs the next request whole (the mixed pool).
        await ArriveAsync(500, 65, PhaseDecision.Mixed);
        await ArriveAsync(500, 65, PhaseDecision.Mixed);
        // p's heartbeat: its queue is reported drained; requests split again.
        await HeartbeatAsync(0, Capacity);
        await ArriveAsync(3000, 65, PhaseDecision.Split);
        // d reports its KV cache 98% full: p keeps the next request and decodes it itself.
        await HeartbeatAsync(1, Capacity / 50);
        await ArriveAsync(200, 65, PhaseDecision.PromptDecodes);
        await ArriveAsync(200, 65, PhaseDecision.PromptDecodes);
        // d drains: split again.
        await HeartbeatAsync(1, Capacity);
        await ArriveAsync(200, 65, PhaseDecision.Split);
        Assert.Equal(3, seen.Count);
    }

    [Fact]
    public async Task A_phase_plan_with_one_pool_empty_keeps_the_session_on_the_other_and_none_is_unavailable()
    {
        await using var coordinator = await CoordinatorHost.StartAsync(timeProvider: new ManualTimeProvider());
        using var client = new CoordinatorClient(coordinator.Address);
        var none = await Assert.ThrowsAsync<RpcException>(() => client.PlanPhasesAsync(Request(10, 10)));
        Assert.Equal(StatusCode.Unavailable, none.StatusCode);
        await client.RegisterAsync(Registration("d", ServerRole.Decode));
        var plan = await client.PlanPhasesAsync(Request(10, 10));
        Assert.Equal(PhaseDecision.Mixed, plan.Decision);
        Assert.Equal(["d"], plan.Prefill.Hops.Select(h => h.ServerId));
        Assert.Equal(["d"], plan.Decode.Hops.Select(h => h.ServerId));
    }

    [Theory]
    [InlineData(-1L, 0L)]
    [InlineData(1024L, 2048L)] // less than it says is free
    [InlineData(1L << 51, 0L)]
    public async Task A_registration_with_a_bad_kv_capacity_is_an_invalid_argument(long capacity, long freeKvBytes)
    {
        await using var coordinator = await CoordinatorHost.StartAsync();
        using var client = new CoordinatorClient(coordinator.Address);
        var refused = await Assert.ThrowsAsync<RpcException>(() => client.RegisterAsync(Registration("x", ServerRole.Decode, freeKvBytes, capacity)));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("kv_capacity_bytes", refused.Status.Detail, StringComparison.Ordinal);
    }

    // The simulator's side of the snapshot: machine loads as ClusterSimulator books them.
    private sealed class BookedView(MachineRole[] roles) : IClusterView
    {
        public long[] Prompt { get; } = new long[roles.Length];

        public long[] Decode { get; } = new long[roles.Length];

        public double[] Kv { get; } = new double[roles.Length];

        public int MachineCount => roles.Length;

        public MachineRole Role(int machine) => roles[machine];

        public long PendingPromptTokens(int machine) => Prompt[machine];

        public long PendingDecodeTokens(int machine) => Decode[machine];

        public double KvUtilization(int machine) => Kv[machine];
    }
}
