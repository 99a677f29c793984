using Strata.Core;
using Strata.Planning.Split;

namespace Strata.Planning.Tests.Split;

public sealed class BaselineSplitPlannerTests
{
    private const double Tolerance = 1e-9;
    private static readonly ParetoDpSplitPlanner Dp = new();

    [Fact]
    public void Every_planner_reports_what_evaluate_computes_and_respects_sla_and_memory_when_feasible()
    {
        var random = new Random(7);
        for (var n = 0; n < 600; n++)
        {
            var kind = RandomSplitInstances.Kinds[n % RandomSplitInstances.Kinds.Length];
            var instance = RandomSplitInstances.Create(random, random.Next(1, 17), kind);
            foreach (var planner in SplitPlanners.All)
            {
                var plan = planner.Plan(instance);
                var again = instance.Evaluate(plan.Assignment);
                var context = $"{planner.Name} on instance {n} ({kind}, {instance.LayerCount} layers): {plan.AssignmentText}";

                Assert.True(plan.Assignment.Count == instance.LayerCount, $"Wrong assignment length from {context}.");
                Assert.True(again.LatencySeconds == plan.LatencySeconds, $"Latency {plan.LatencySeconds} != evaluated {again.LatencySeconds} from {context}.");
                Assert.True(again.ServerLoad == plan.ServerLoad, $"Load {plan.ServerLoad} != evaluated {again.ServerLoad} from {context}.");
                Assert.True(again.ClientMemoryBytes == plan.ClientMemoryBytes, $"Memory differs from {context}.");
                Assert.True(again.Feasible == plan.Feasible, $"Feasibility differs from {context}.");
                if (plan.Feasible)
                {
                    Assert.True(plan.LatencySeconds <= instance.SlaSeconds, $"SLA missed by a feasible plan from {context}.");
                    Assert.True(plan.ClientMemoryBytes <= (instance.ClientMemoryBudgetBytes ?? double.PositiveInfinity), $"Budget exceeded by a feasible plan from {context}.");
                }
            }
        }
    }

    [Fact]
    public void Greedy_prefix_server_and_client_never_beat_the_dp()
    {
        var random = new Random(11);
        ISplitPlanner[] baselines = [new GreedySplitPlanner(), new BestPrefixSplitPlanner(), new AllServerSplitPlanner(), new AllClientSplitPlanner()];
        var greedyWorse = 0;
        for (var n = 0; n < 1500; n++)
        {
            var kind = RandomSplitInstances.Kinds[n % RandomSplitInstances.Kinds.Length];
            var instance = RandomSplitInstances.Create(random, random.Next(1, 41), kind);
            var dp = Dp.Plan(instance);
            foreach (var baseline in baselines)
            {
                var plan = baseline.Plan(instance);
                if (plan.Feasible)
                {
                    Assert.True(dp.Feasible, $"{baseline.Name} found a feasible plan on instance {n} and the DP did not.");
                    Assert.True(dp.ServerLoad <= plan.ServerLoad + Tolerance, $"{baseline.Name} load {plan.ServerLoad} beats the DP's {dp.ServerLoad} on instance {n}.");
                    greedyWorse += baseline is GreedySplitPlanner && dp.ServerLoad < plan.ServerLoad - Tolerance ? 1 : 0;
                }
            }
        }

        Assert.True(greedyWorse > 0, "Greedy matched the DP everywhere; the instances are too easy to tell them apart.");
    }

    [Fact]
    public void Greedy_misses_a_split_that_needs_two_moves_at_once()
    {
        // Moving either layer alone adds an upload or download and breaks the 4.5 s SLA; moving both removes all transfers.
        var instance = new SplitInstance([new SplitLayer(1, 0, 2, 2, 1), new SplitLayer(1, 0, 2, 2, 1)], slaSeconds: 4.5, finalDownloadSeconds: 2);

        var greedy = new GreedySplitPlanner().Plan(instance);
        var dp = Dp.Plan(instance);

        Assert.Equal("SS", greedy.AssignmentText);
        Assert.Equal(2, greedy.ServerLoad);
        Assert.Equal("CC", dp.AssignmentText);
        Assert.Equal(0, dp.ServerLoad);
    }

    [Fact]
    public void Greedy_moves_the_layer_with_the_best_load_saved_per_second_added_first()
    {
        // From all-server (0.5 upload + 0.5 final download = 1 s): moving layer 0 saves 1 for +0.5 s (ratio 2),
        // moving layer 1 saves 3 for +1 s (ratio 3). After that move, moving layer 0 too would take 2.5 s > 2 s.
        var instance = new SplitInstance(
            [new SplitLayer(1, 0, 0.5, 0, 1), new SplitLayer(1.5, 0, 0, 0, 3)],
            slaSeconds: 2,
            finalDownloadSeconds: 0.5);

        var plan = new GreedySplitPlanner().Plan(instance);

        Assert.Equal("SC", plan.AssignmentText);
        Assert.Equal(1, plan.ServerLoad);
    }

    [Fact]
    public void Best_prefix_keeps_the_longest_client_prefix_that_meets_the_sla()
    {
        var layer = new SplitLayer(1, 0.25, 0.5, 0.5, 1);
        var instance = new SplitInstance([layer, layer, layer, layer], slaSeconds: 3.5, finalDownloadSeconds: 0.5);

        var plan = new BestPrefixSplitPlanner().Plan(instance);

        // k = 2: 2 + 0.75 + 0.25 + 0.5 = 3.5 s, load 2; k = 3: 3 + 0.75 + 0.5 = 4.25 s; k = 4: 4 s.
        Assert.Equal("CCSS", plan.AssignmentText);
        Assert.Equal(3.5, plan.LatencySeconds);
        Assert.True(plan.Feasible);
    }

    [Fact]
    public void All_client_is_infeasible_when_the_layers_exceed_the_memory_budget()
    {
        var instance = new SplitInstance([new SplitLayer(0.1, 1, 1, 1, 1, 6), new SplitLayer(0.1, 1, 1, 1, 1, 6)], slaSeconds: 10, clientMemoryBudgetBytes: 10);

        var plan = new AllClientSplitPlanner().Plan(instance);

        Assert.False(plan.Feasible);
        Assert.True(plan.MeetsSla);
        Assert.False(plan.FitsClientMemory);
        Assert.Equal(12, plan.ClientMemoryBytes);
        Assert.Equal(0, plan.ServerLoad);
    }

    [Fact]
    public void All_server_pays_the_first_upload_and_the_final_download()
    {
        var instance = new SplitInstance([new SplitLayer(9, 1, 0.5, 7, 2), new SplitLayer(9, 1, 3, 7, 2)], slaSeconds: 10, finalDownloadSeconds: 0.25);

        var plan = new AllServerSplitPlanner().Plan(instance);

        Assert.Equal(0.5 + 1 + 1 + 0.25, plan.LatencySeconds);
        Assert.Equal(4, plan.ServerLoad);
        Assert.True(plan.Feasible);
    }

    [Fact]
    public void Exhaustive_refuses_25_layers_and_points_to_the_dp()
    {
        var layers = Enumerable.Repeat(new SplitLayer(1, 1, 1, 1, 1), 25).ToArray();

        var error = Assert.Throws<StrataException>(() => new ExhaustiveSplitPlanner().Plan(new SplitInstance(layers, 100)));

        Assert.Contains("25", error.Message, StringComparison.Ordinal);
        Assert.Contains("24", error.Message, StringComparison.Ordinal);
        Assert.Contains("'dp'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Planners_are_found_by_name_and_a_misspelt_name_gets_a_suggestion()
    {
        Assert.Equal(["dp", "greedy", "prefix", "server", "client", "exhaustive"], SplitPlanners.Names);
        Assert.IsType<GreedySplitPlanner>(SplitPlanners.ByName("Greedy"));

        var error = Assert.Throws<StrataException>(() => SplitPlanners.ByName("gredy"));

        Assert.Contains("did you mean 'greedy'?", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_charges_transfers_only_where_the_side_changes()
    {
        var instance = new SplitInstance(
            [new SplitLayer(1, 10, 100, 1000, 1), new SplitLayer(2, 20, 200, 2000, 2), new SplitLayer(4, 40, 400, 4000, 4)],
            slaSeconds: 1e6,
            finalDownloadSeconds: 10000);

        Assert.Equal(1 + 2 + 4, instance.Evaluate([SplitSide.Client, SplitSide.Client, SplitSide.Client]).LatencySeconds);
        Assert.Equal(110 + 20 + 40 + 10000, instance.Evaluate([SplitSide.Server, SplitSide.Server, SplitSide.Server]).LatencySeconds);
        Assert.Equal(1 + 220 + 4004, instance.Evaluate([SplitSide.Client, SplitSide.Server, SplitSide.Client]).LatencySeconds);
        Assert.Equal(2, instance.Evaluate([SplitSide.Client, SplitSide.Server, SplitSide.Client]).ServerLoad);
        Assert.Throws<ArgumentException>(() => instance.Evaluate([SplitSide.Client]));
    }
}
