using Strata.Core.Catalogs;
using Strata.Core.Network;
using Strata.Core.Scenarios;
using Strata.Planning.Split;
using Strata.Simulation.SplitServing;
using Strata.Simulation.Workloads;

namespace Strata.Simulation.Tests.SplitServing;

public sealed class SplitStudyTests
{
    [Theory]
    [InlineData(1, 0.5)]
    [InlineData(1, 0.8)]
    public void A_processor_sharing_server_matches_the_MM1_PS_mean_sojourn(int concurrency, double load)
    {
        // M/M/1-PS: mean time in system = 1 / (mu - lambda), whatever the service distribution's shape.
        var random = new Random(11);
        const double mu = 1.0;
        var lambda = load * mu;
        var time = 0.0;
        var requests = new List<PlannedRequest>();
        for (var i = 0; i < 200_000; i++)
        {
            time += -Math.Log(1 - random.NextDouble()) / lambda;
            requests.Add(new PlannedRequest(time, [0, 0], [-Math.Log(1 - random.NextDouble()) / mu], double.PositiveInfinity));
        }

        var (_, e2e) = ProcessorSharingServer.Run(requests, 1.0, concurrency);
        var expected = 1 / (mu - lambda);
        Assert.InRange(e2e.Mean, expected * 0.95, expected * 1.05);
    }

    [Fact]
    public void With_concurrency_above_the_load_no_request_waits()
    {
        var requests = Enumerable.Range(0, 50).Select(i => new PlannedRequest(i * 0.1, [0.5, 0.25, 0.125], [1.0, 2.0], 10)).ToArray();
        var (attainment, e2e) = ProcessorSharingServer.Run(requests, 1.0, 64);
        Assert.Equal(1.0, attainment);
        Assert.Equal(3.875, e2e.Min, 12);
        Assert.Equal(3.875, e2e.Max, 12);
    }

    [Fact]
    public void Segments_add_up_to_the_plan_latency_of_the_instance()
    {
        var random = new Random(5);
        for (var trial = 0; trial < 2_000; trial++)
        {
            var layers = Enumerable.Range(0, random.Next(1, 12))
                .Select(_ => new SplitLayer(random.NextDouble(), random.NextDouble(), random.NextDouble(), random.NextDouble(), random.NextDouble()))
                .ToArray();
            var instance = new SplitInstance(layers, 100, random.NextDouble());
            var assignment = layers.Select(_ => random.Next(2) == 0 ? SplitSide.Client : SplitSide.Server).ToArray();
            var planned = SplitStudy.Segments(0, instance, assignment);
            var plan = instance.Evaluate(assignment);
            Assert.Equal(plan.LatencySeconds, planned.LocalSeconds.Sum() + planned.ServerSeconds.Sum(), 9);
            Assert.Equal(layers.Where((_, l) => assignment[l] == SplitSide.Server).Sum(l => l.ServerSeconds), planned.ServerSeconds.Sum(), 9);
            Assert.Equal(planned.ServerSeconds.Length + 1, planned.LocalSeconds.Length);
        }
    }

    [Fact]
    public void The_exact_planner_never_loads_the_server_more_than_a_baseline_and_the_study_is_reproducible()
    {
        var options = Options(requests: 300);
        var first = SplitStudy.Run(options);
        var second = SplitStudy.Run(options);
        var dp = first.Planners.Single(p => p.Planner == "dp");
        foreach (var other in first.Planners)
        {
            Assert.True(dp.MeanServerFlopsPerRequest <= other.MeanServerFlopsPerRequest * (1 + 1e-12), $"dp {dp.MeanServerFlopsPerRequest} vs {other.Planner} {other.MeanServerFlopsPerRequest}");
        }

        Assert.Equal(1.0, first.Planners.Single(p => p.Planner == "server").ServerLoadVsAllServer, 12);
        Assert.Equal(
            first.Planners.Select(p => (p.Planner, p.MeanServerFlopsPerRequest, p.SlaAttainment, p.MaxRateRequestsPerSecond, p.E2e.P99)),
            second.Planners.Select(p => (p.Planner, p.MeanServerFlopsPerRequest, p.SlaAttainment, p.MaxRateRequestsPerSecond, p.E2e.P99)));
    }

    [Fact]
    public void The_highest_rate_found_sustains_the_target_within_capacity_and_a_fifth_more_does_not()
    {
        var options = Options(requests: 300) with { Planners = ["server"], ServerConcurrency = 2 };
        var outcome = SplitStudy.Run(options).Planners[0];
        var rate = outcome.MaxRateRequestsPerSecond;
        var capacity = options.ServerConcurrency / outcome.MeanServerSecondsPerRequest;
        Assert.InRange(rate, 1e-6, capacity * (1 + 1e-9));
        Assert.True(SplitStudy.Run(options with { Workload = options.Workload with { RateRequestsPerSecond = rate } }).Planners[0].SlaAttainment >= options.TargetAttainment);
        var faster = rate * 1.2;
        Assert.True(faster > capacity || SplitStudy.Run(options with { Workload = options.Workload with { RateRequestsPerSecond = faster } }).Planners[0].SlaAttainment < options.TargetAttainment);
    }

    private static SplitStudyOptions Options(int requests)
    {
        var catalog = Catalog.BuiltIn;
        static ScenarioLink Link(string id, double rttSeconds, double mbps) => new(id, new LinkSpec(rttSeconds / 2, mbps * 1e6 / 8, id));
        return new SplitStudyOptions
        {
            Model = catalog.Model("llama-2-7b"),
            ServerDevice = catalog.Device("a100-80gb"),
            Clients =
            [
                new ScenarioClient("phones", catalog.Device("snapdragon-8-gen-3"), 0.6, Link("5g", 0.04, 100)),
                new ScenarioClient("laptops", catalog.Device("laptop-core-i7-13700h"), 0.4, Link("wifi", 0.01, 300)),
            ],
            Workload = new WorkloadOptions
            {
                RateRequestsPerSecond = 2,
                Requests = requests,
                Arrivals = Core.Scenarios.ArrivalProcess.Poisson,
                PromptTokens = new LengthDistribution.LogNormal(256, 1024, Max: 2048),
                OutputTokens = new LengthDistribution.Uniform(16, 64),
                Seed = 3,
            },
        };
    }
}
