using BenchmarkDotNet.Attributes;
using Strata.Core.Catalogs;
using Strata.Core.Models;
using Strata.Core.Network;
using Strata.Planning.Placement;
using Strata.Planning.Routing;
using Strata.Planning.Swarm;

namespace Strata.Benchmarks.Swarm;

/// <summary>
/// CG-BP over 1,000 servers and 80 blocks (target: at most 1 s) and one WS-RR routing decision over 1,000 servers
/// with every server busy (target: at most 1 ms). Llama-2-70B (80 blocks) in int4 on 20% A100-80GB and 80% A100 MIG
/// 1g.10gb, costs from the roofline model, servers and 50 clients on the GTS-CE topology.
/// </summary>
[MemoryDiagnoser]
public class SwarmPlanningBenchmarks
{
    private SwarmInstance _instance = null!;
    private SwarmPlacement _placement = null!;
    private BusyLoad _load = null!;
    private WaitingShortestPathRouting _routing = null!;
    private int _client;

    /// <summary>Servers in the swarm.</summary>
    [Params(1000)]
    public int Servers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var catalog = Catalog.BuiltIn;
        var devices = SwarmLayout.Mix(Servers, 0.2, SwarmCostPresets.A100, SwarmCostPresets.Mig, 1);
        var costs = SwarmCostPresets.FromRoofline(catalog.Model("llama-2-70b"), devices.Distinct().Select(catalog.Device), Precision.Int4, 20, 128);
        _instance = SwarmLayout.Build(costs, BuiltInTopologies.Load("gtsce").ShortestPathLatencies(), false, devices, 50, 20, 128, 1);
        _placement = ConservativeGreedyPlacement.PlaceFor(_instance, 16).Placement;
        _load = new BusyLoad(Servers);
        _routing = new WaitingShortestPathRouting();
        _routing.Route(_instance, _placement, 0, _load, 0);
    }

    /// <summary>CG-BP for a fixed R = 16.</summary>
    [Benchmark]
    public int CgBpPlace() => ConservativeGreedyPlacement.PlaceFor(_instance, 16).Placement.ServerCount;

    /// <summary>CG-BP with R chosen from a 1 req/s load (three placements and shortest paths for every client).</summary>
    [Benchmark]
    public int CgBpPlaceWithConcurrencyFromLoad() => new ConservativeGreedyPlacement().Place(_instance, 1.0).Placement.ServerCount;

    /// <summary>One WS-RR decision: waits and hop costs over every usable hop, shortest path.</summary>
    [Benchmark]
    public int WsRrRoute() => _routing.Route(_instance, _placement, _client++ % 50, _load, 100)!.Hops.Count;

    /// <summary>A load where every server is full and frees its slots at a server-dependent time.</summary>
    private sealed class BusyLoad(int servers) : ISwarmLoad
    {
        private readonly double[] _freeAtSeconds = [.. Enumerable.Range(0, servers).Select(j => 100 + (j * 7919 % 97))];

        public bool IsAlive(int server) => true;

        public int FreeSlots(int server) => 0;

        public double SlotsFreeAtSeconds(int server, int slots, double nowSeconds) => Math.Max(nowSeconds, _freeAtSeconds[server] + slots);
    }
}
