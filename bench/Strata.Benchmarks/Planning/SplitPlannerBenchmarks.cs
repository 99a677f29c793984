using BenchmarkDotNet.Attributes;
using Strata.Core.Catalogs;
using Strata.Core.Network;
using Strata.Planning.Split;

namespace Strata.Benchmarks.Planning;

/// <summary>One exact DP split plan of an 80-layer model (target: under 1 ms median), and a cached lookup.</summary>
[MemoryDiagnoser]
public class SplitPlannerBenchmarks
{
    private readonly ParetoDpSplitPlanner _dp = new();
    private readonly SplitPlanCache<int> _cache = new();
    private SplitInstance _instance = null!;

    /// <summary>SLA of the request: tight (a few layers fit on the client) or loose (many do).</summary>
    [Params(30.0, 120.0)]
    public double SlaSeconds { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _instance = SplitCostBuilder.Build(new SplitCostRequest
        {
            Model = Catalog.BuiltIn.Model("llama-2-70b"),
            ClientDevice = Catalog.BuiltIn.Device("jetson-agx-orin-64gb"),
            ServerDevice = Catalog.BuiltIn.Device("a100-80gb"),
            Link = new LinkSpec(0.02, 12.5e6),
            PromptTokens = 512,
            OutputTokens = 128,
            SlaSeconds = SlaSeconds,
            ClientMemoryBudgetBytes = 32e9,
        });
        _cache.GetOrAdd(1, _ => _dp.Plan(_instance));
    }

    [Benchmark]
    public double DpPlan80Layers() => _dp.Plan(_instance).ServerLoad;

    [Benchmark]
    public double CachedPlan() => _cache.GetOrAdd(1, _ => _dp.Plan(_instance)).ServerLoad;
}
