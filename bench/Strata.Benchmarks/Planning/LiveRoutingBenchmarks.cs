using BenchmarkDotNet.Attributes;
using Strata.Core.Placement;
using Strata.Planning.Live;
using Strata.Planning.Pools;

namespace Strata.Benchmarks.Planning;

/// <summary>
/// One routing decision on a live registry snapshot, as the coordinator makes it for every <c>Route</c> call: the
/// snapshot built from the registry's servers (<see cref="LiveSwarm"/>) and the planner's policy run over it
/// (<see cref="LiveRouting.Route"/>). An 80-block model; servers hold random ranges of 4-40 blocks, random round trips,
/// speeds, sessions and free KV (seed 7), with block 0 and the last block always covered.
/// </summary>
[MemoryDiagnoser]
public class LiveRoutingBenchmarks
{
    private const int Blocks = 80;
    private LiveServer[] _servers = null!;
    private LiveServer[] _pools = null!; // each server twice, once per phase pool, with KV capacity and pending tokens
    private readonly SplitwiseScheduler _scheduler = new();
    private LiveRouteRequest _request = null!;
    private readonly LiveRouteOptions _options = new();

    /// <summary>Servers in the registry.</summary>
    [Params(16, 128)]
    public int Servers { get; set; }

    /// <summary>The planner's routing policy.</summary>
    [Params("ws-rr", "petals")]
    public string Policy { get; set; } = "ws-rr";

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        _servers = new LiveServer[Servers];
        for (var j = 0; j < Servers; j++)
        {
            var count = random.Next(4, 41);
            var first = j switch { 0 => 0, 1 => Blocks - count, _ => random.Next(0, Blocks - count + 1) };
            _servers[j] = new LiveServer($"server-{j}", new BlockRange(first, count), ServerPhase.Both,
                FreeKvBytes: random.Next(0, 4) == 0 ? 0 : 8L << 30, OpenSessions: random.Next(0, 4), PendingSessions: random.Next(0, 2),
                DecodeSecondsPerBlock: 1e-3 * (1 + random.Next(0, 5)), RttSeconds: 1e-3 * random.Next(1, 120))
            {
                PrefillSecondsPerBlockPerToken = 2e-5 * (1 + random.Next(0, 5)),
            };
        }

        _pools = [.. _servers.SelectMany(server => new[] { ServerPhase.Prefill, ServerPhase.Decode }.Select(phase => server with
        {
            Id = $"{server.Id}-{phase}",
            Phase = phase,
            KvCapacityBytes = 16L << 30,
            PendingPromptTokens = random.Next(0, 4) * 2048,
            PendingDecodeTokens = random.Next(0, 4) * 512,
        }))];
        _request = new LiveRouteRequest(BlockRange.All(Blocks), ServerPhase.Both, KvBytesPerBlock: 64L << 20, PromptTokens: 512, OutputTokens: 128);
        if (LiveRouting.Route(_servers, _request, Policy, _options) is null)
        {
            throw new InvalidOperationException("the benchmark's snapshot leaves a gap");
        }

        if (LivePhasePlanner.Plan(_pools, _request, Policy, _options, _scheduler) is null)
        {
            throw new InvalidOperationException("the benchmark's phase pools leave a gap");
        }
    }

    /// <summary>Snapshot plus route: what one coordinator <c>Route</c> call costs beyond gRPC.</summary>
    [Benchmark]
    public double RouteOnLiveSnapshot() => LiveRouting.Route(_servers, _request, Policy, _options)!.CostSeconds;

    /// <summary>
    /// A phase plan (the coordinator's <c>PlanPhases</c> beyond gRPC): both pools routed by the policy over twice the
    /// servers (each once per pool), then Splitwise's decision over the two chains.
    /// </summary>
    [Benchmark]
    public PhaseDecision PhasePlanOnLiveSnapshot() => LivePhasePlanner.Plan(_pools, _request, Policy, _options, _scheduler)!.Decision;

    /// <summary>The snapshot alone (the swarm instance, placement and network the policy reads), to see where the time goes.</summary>
    [Benchmark]
    public int SnapshotOnly() => LiveRouting.Snapshot(_servers, _request, _options, s => s.Serves(ServerPhase.Both))!.Servers.Count;
}
