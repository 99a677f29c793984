using FsCheck;
using FsCheck.Fluent;
using Strata.Planning.Split;

namespace Strata.Planning.Tests.Split;

public sealed class ParetoDpSplitPlannerTests
{
    private const double Tolerance = 1e-9;
    private static readonly ParetoDpSplitPlanner Dp = new();
    private static readonly ExhaustiveSplitPlanner Exhaustive = new();

    [Fact]
    public void Dp_matches_exhaustive_search_on_random_instances()
    {
        var random = new Random(20241014);
        var feasibleCount = 0;
        var switchingCount = 0;
        const int Instances = 3000;
        for (var n = 0; n < Instances; n++)
        {
            var kind = RandomSplitInstances.Kinds[n % RandomSplitInstances.Kinds.Length];
            var layerCount = n % 10 == 0 ? random.Next(13, 21) : random.Next(1, 13);
            var instance = RandomSplitInstances.Create(random, layerCount, kind);

            var dp = Dp.Plan(instance);
            var oracle = Exhaustive.Plan(instance);

            var context = $"instance {n} ({kind}, {layerCount} layers, SLA {instance.SlaSeconds}, budget {instance.ClientMemoryBudgetBytes}): dp {dp.AssignmentText} vs exhaustive {oracle.AssignmentText}";
            Assert.True(oracle.Feasible == dp.Feasible, $"Feasibility differs for {context}.");
            Assert.True(Math.Abs(oracle.ServerLoad - dp.ServerLoad) <= Tolerance, $"Server load {dp.ServerLoad} != {oracle.ServerLoad} for {context}.");
            Assert.True(Math.Abs(oracle.LatencySeconds - dp.LatencySeconds) <= Tolerance, $"Latency {dp.LatencySeconds} != {oracle.LatencySeconds} for {context}.");
            Assert.True(dp.FitsClientMemory, $"The DP plan exceeds the memory budget for {context}.");
            feasibleCount += dp.Feasible ? 1 : 0;
            switchingCount += Switches(dp) >= 2 ? 1 : 0;
        }

        // The mix must exercise both outcomes and splits that go back and forth.
        Assert.InRange(feasibleCount, Instances / 5, Instances - (Instances / 10));
        Assert.True(switchingCount > Instances / 20, $"Only {switchingCount} plans switch sides twice or more.");
    }

    [Fact]
    public void Dp_solves_a_hand_built_three_layer_instance_by_running_the_middle_layer_on_the_server()
    {
        // Client-server-client: 1 + (0.125 + 0.5 upload) + (1 + 0.5 download) = 3.125 s, load 1.
        // All other assignments either miss the 4 s SLA (the middle layer takes 5 s on the client) or load >= 5.
        var instance = new SplitInstance(
            [
                new SplitLayer(1, 0.125, 0.5, 0.5, 4),
                new SplitLayer(5, 0.125, 0.5, 0.5, 1),
                new SplitLayer(1, 0.125, 0.5, 0.5, 4),
            ],
            slaSeconds: 4,
            finalDownloadSeconds: 0.5);

        var plan = Dp.Plan(instance);

        Assert.True(plan.Feasible);
        Assert.Equal([SplitSide.Client, SplitSide.Server, SplitSide.Client], plan.Assignment);
        Assert.Equal(1, plan.ServerLoad);
        Assert.Equal(3.125, plan.LatencySeconds);
    }

    [Fact]
    public void Dp_returns_the_fastest_assignment_marked_infeasible_when_no_assignment_meets_the_sla()
    {
        // Fastest: all on the server, 0.5 + 3 x 0.125 + 0.5 = 1.375 s; the SLA asks for 1 s.
        var instance = new SplitInstance(
            [
                new SplitLayer(1, 0.125, 0.5, 0.5, 4),
                new SplitLayer(5, 0.125, 0.5, 0.5, 1),
                new SplitLayer(1, 0.125, 0.5, 0.5, 4),
            ],
            slaSeconds: 1,
            finalDownloadSeconds: 0.5);

        var plan = Dp.Plan(instance);

        Assert.False(plan.Feasible);
        Assert.False(plan.MeetsSla);
        Assert.Equal("SSS", plan.AssignmentText);
        Assert.Equal(1.375, plan.LatencySeconds);
    }

    [Fact]
    public void Dp_fallback_respects_the_memory_budget_when_the_fastest_split_would_not_fit()
    {
        // The client is fastest (no transfers) but its layers exceed the budget; only one layer fits.
        var instance = new SplitInstance(
            [new SplitLayer(0.25, 1, 1, 1, 1, 10), new SplitLayer(0.25, 1, 1, 1, 1, 10)],
            slaSeconds: 0.1,
            finalDownloadSeconds: 1,
            clientMemoryBudgetBytes: 10);

        var plan = Dp.Plan(instance);
        var oracle = Exhaustive.Plan(instance);

        Assert.False(plan.Feasible);
        Assert.True(plan.FitsClientMemory);
        Assert.Equal(oracle.LatencySeconds, plan.LatencySeconds);
        Assert.Equal(oracle.ServerLoad, plan.ServerLoad);
    }

    [Fact]
    public void Dp_load_never_rises_when_the_sla_is_loosened_or_the_memory_budget_grows()
    {
        Prop.ForAll(
            Gen.Choose(0, int.MaxValue).ToArbitrary(),
            Gen.Choose(1, 24).ToArbitrary(),
            (seed, layerCount) =>
            {
                var random = new Random(seed);
                var instance = RandomSplitInstances.Create(random, layerCount, RandomSplitInstances.Kind.MemoryConstrained);
                var tight = Dp.Plan(instance);
                var looser = Dp.Plan(new SplitInstance(instance.Layers, instance.SlaSeconds * 1.5, instance.FinalDownloadSeconds, instance.ClientMemoryBudgetBytes));
                var roomier = Dp.Plan(new SplitInstance(instance.Layers, instance.SlaSeconds, instance.FinalDownloadSeconds, instance.ClientMemoryBudgetBytes * 2));
                return !tight.Feasible
                    || (looser.Feasible && looser.ServerLoad <= tight.ServerLoad + Tolerance
                        && roomier.Feasible && roomier.ServerLoad <= tight.ServerLoad + Tolerance);
            })
            .QuickCheckThrowOnFailure();
    }

    internal static int Switches(SplitPlan plan)
    {
        var switches = 0;
        var previous = SplitSide.Client;
        foreach (var side in plan.Assignment)
        {
            switches += side != previous ? 1 : 0;
            previous = side;
        }

        return switches;
    }
}
