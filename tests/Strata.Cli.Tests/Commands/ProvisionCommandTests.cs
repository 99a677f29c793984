using System.Globalization;
using Strata.Cli.Commands;
using Strata.Simulation.Provisioning;

namespace Strata.Cli.Tests.Commands;

public sealed class ProvisionCommandTests
{
    private static readonly string[] Search = ["provision", "--design", "splitwise-hh", "--rate", "20", "--max-machines", "6"];

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public void Simulate_with_defaults_on_the_split_provision_picks_meets_the_same_slo()
    {
        var provision = CliRun.Of([.. Search, "--json"]).ShouldSucceed().Json();
        var best = provision.GetProperty("best");
        var (prompt, token) = (best.GetProperty("promptMachines").GetInt32(), best.GetProperty("tokenMachines").GetInt32());

        var simulate = CliRun.Of("simulate", "--design", "splitwise-hh", "--prompt-machines", I(prompt), "--token-machines", I(token), "--rate", "20", "--json").ShouldSucceed().Json();
        Assert.True(simulate.GetProperty("splitwiseSlo").GetProperty("met").GetBoolean(), $"provision picked {prompt} + {token}; simulate on it: {simulate.GetProperty("splitwiseSlo")}");
        Assert.Equal(simulate.GetProperty("requests").GetInt64(), simulate.GetProperty("completed").GetInt64());

        // Both name the same construction and window: Poisson at the rate for the shared default duration, trace rows.
        var (searched, simulated) = (provision.GetProperty("workload"), simulate.GetProperty("workload"));
        Assert.Equal("poisson-paired", searched.GetProperty("construction").GetString());
        Assert.Equal(searched.GetProperty("construction").GetString(), simulated.GetProperty("construction").GetString());
        Assert.Equal(120, searched.GetProperty("durationSeconds").GetDouble());
        Assert.Equal(searched.GetProperty("durationSeconds").GetDouble(), simulated.GetProperty("durationSeconds").GetDouble());
        Assert.Equal(searched.GetProperty("seed").GetInt32(), simulated.GetProperty("seed").GetInt32());

        // Not vacuous: the search found one token machine fewer too few, and simulate agrees.
        if (token > 1)
        {
            var smaller = CliRun.Of("simulate", "--design", "splitwise-hh", "--prompt-machines", I(prompt), "--token-machines", I(token - 1), "--rate", "20", "--json").ShouldSucceed().Json();
            Assert.False(smaller.GetProperty("splitwiseSlo").GetProperty("met").GetBoolean(), $"{prompt} + {token - 1} met the SLO in simulate but not in the search");
        }
    }

    [Fact]
    public void The_table_names_the_workload_and_marks_the_winner()
    {
        var run = CliRun.Of(Search).ShouldSucceed();
        Assert.Contains("workload (poisson-paired): Poisson arrivals at 20 req/s for 120 s, seed 0", run.Output, StringComparison.Ordinal);
        Assert.Contains("best", run.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ProvisioningGoal.MinCost)]
    [InlineData(ProvisioningGoal.MinPower)]
    [InlineData(ProvisioningGoal.MaxRateForCost)]
    public void The_table_always_shows_the_winning_row_first_even_past_fifteen_candidates(ProvisioningGoal goal)
    {
        // 30 feasible candidates: cost rises with i, power falls with i, rate peaks at i = 29. Under min-power and
        // max-rate the winner is the most expensive, outside the 15 cheapest the table used to show.
        var candidates = Enumerable.Range(0, 30).Select(i => new ProvisioningCandidate(i + 1, 1, i + 2, 100 + i, 1000 - i, 10 + i, true, 1)).ToArray();
        var best = goal == ProvisioningGoal.MinCost ? candidates[0] : candidates[^1];
        var shown = ProvisionCommand.Shown(new ProvisioningResult("splitwise-hh", goal, best, candidates, 30, 0.1));
        Assert.Same(best, shown[0]);
        Assert.Equal(15, shown.Count);
        Assert.Single(shown, c => ReferenceEquals(c, best));
    }
}
