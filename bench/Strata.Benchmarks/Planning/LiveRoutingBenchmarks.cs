using BenchmarkDotNet.Attributes;
using Strata.Core.Placement;
using Strata.Planning.Live;

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

        _request = new LiveRouteRequest(BlockRange.All(Blocks), ServerPhase.Both, KvBytesPerBlock: 64L << 20, PromptTokens: 512, OutputTokens: 128);
        if (LiveRouting.Route(_servers, _request, Policy, _options) is null)
        {
            throw new InvalidOperationException("the benchmark's snapshot leaves a gap");
        }
    }

    /// <summary>Snapshot plus route: what one coordinator <c>Route</c> call costs beyond gRPC.</summary>
    [Benchmark]
    public double RouteOnLiveSnapshot() => LiveRouting.Route(_servers, _request, Policy, _options)!.CostSeconds;

    /// <summary>The snapshot alone (the swarm instance, placement and network the policy reads), to see where the time goes.</summary>
    [Benchmark]
    public int SnapshotOnly() => LiveRouting.Snapshot(_servers, _request, _options, s => s.Serves(ServerPhase.Both))!.Servers.Count;
}
