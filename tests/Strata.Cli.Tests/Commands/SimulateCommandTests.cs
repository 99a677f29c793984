using System.Text.Json;
using Strata.Cli.Tests.Reports;

namespace Strata.Cli.Tests.Commands;

public sealed class SimulateCommandTests
{
    private static readonly string[] Small = ["simulate", "--trace", "conv", "--arrivals", "trace", "--rate", "4", "--duration", "30", "--design", "splitwise-hh", "--prompt-machines", "1", "--token-machines", "1", "--seed", "3", "--json"];

    [Fact]
    public void Json_has_the_fields_scripts_rely_on_and_every_request_is_accounted_for()
    {
        var json = CliRun.Of(Small).ShouldSucceed().Json();
        Assert.Equal(120, json.GetProperty("requests").GetInt64());
        Assert.Equal(json.GetProperty("requests").GetInt64(), json.GetProperty("completed").GetInt64());
        foreach (var metric in new[] { "ttftSeconds", "tbtSeconds", "e2eSeconds" })
        {
            var summary = json.GetProperty(metric);
            var (p50, p90, p99) = (summary.GetProperty("p50").GetDouble(), summary.GetProperty("p90").GetDouble(), summary.GetProperty("p99").GetDouble());
            Assert.True(0 < p50 && p50 <= p90 && p90 <= p99, $"{metric}: {summary}");
            Assert.True(summary.GetProperty("mean").GetDouble() > 0);
        }

        Assert.True(json.GetProperty("ttftSeconds").GetProperty("p99").GetDouble() <= json.GetProperty("e2eSeconds").GetProperty("p99").GetDouble());
        Assert.InRange(json.GetProperty("sloAttainment").GetDouble(), 0, 1);
        Assert.True(json.GetProperty("throughputRequestsPerSecond").GetDouble() > 0);
        Assert.True(json.GetProperty("wallSeconds").GetDouble() >= 0);
        Assert.Equal(0, json.GetProperty("kvBlocksInUseAtEnd").GetInt64());
    }

    [Fact]
    public void The_same_seed_gives_the_same_json_apart_from_wall_time()
    {
        static string WithoutWall(JsonElement json) =>
            JsonSerializer.Serialize(json.EnumerateObject().Where(p => p.Name != "wallSeconds").ToDictionary(p => p.Name, p => p.Value));

        Assert.Equal(WithoutWall(CliRun.Of(Small).ShouldSucceed().Json()), WithoutWall(CliRun.Of(Small).ShouldSucceed().Json()));
    }

    [Fact]
    public void Report_writes_charts_a_summary_and_a_rate_sweep()
    {
        using var folder = new TempFolder();
        var json = CliRun.Of([.. Small, "--report", folder.Path, "--sweep", "0.5,1"]).ShouldSucceed().Json();
        var written = json.GetProperty("report").EnumerateArray().Select(e => Path.GetFileName(e.GetString()!)).ToArray();
        Assert.Equal(["ttft-cdf.png", "e2e-cdf.png", "goodput-vs-rate.png", "latency-vs-rate.png", "summary.md"], written);
        var summary = File.ReadAllText(Path.Combine(folder.Path, "summary.md"));
        Assert.Contains("| splitwise-hh | 2 |", summary, StringComparison.Ordinal);
        Assert.Contains("| splitwise-hh | 4 |", summary, StringComparison.Ordinal);
        Assert.Equal(120, json.GetProperty("result").GetProperty("requests").GetInt64());
    }

    [Theory]
    [InlineData("--rate", "0", "rate")]
    [InlineData("--machines", "0", "machines")]
    public void Bad_workload_or_cluster_numbers_fail_cleanly(string option, string value, string mention)
    {
        CliRun.Of("simulate", "--trace", "conv", "--duration", "10", "--design", "baseline-h100", option, value, "--json").ShouldFailCleanly(mention);
    }

    [Fact]
    public void A_bad_sweep_factor_fails_cleanly()
    {
        using var folder = new TempFolder();
        CliRun.Of([.. Small, "--report", folder.Path, "--sweep", "0.5,zero"]).ShouldFailCleanly("--sweep", "zero");
    }

    [Fact]
    public void The_default_workload_is_poisson_for_the_shared_window_and_replay_is_named_when_asked()
    {
        var poisson = CliRun.Of("simulate", "--design", "baseline-h100", "--machines", "2", "--rate", "1", "--json").ShouldSucceed().Json().GetProperty("workload");
        Assert.Equal("poisson-paired", poisson.GetProperty("construction").GetString());
        Assert.Equal(120, poisson.GetProperty("durationSeconds").GetDouble());
        var replay = CliRun.Of(Small).ShouldSucceed().Json().GetProperty("workload");
        Assert.Equal("replay", replay.GetProperty("construction").GetString());
        var splitwise = CliRun.Of("simulate", "--trace", "conv", "--design", "baseline-h100", "--machines", "2", "--rate", "1", "--lengths", "independent", "--json").ShouldSucceed().Json().GetProperty("workload");
        Assert.Equal("poisson-independent", splitwise.GetProperty("construction").GetString());
        Assert.Contains("SplitwiseSim", splitwise.GetProperty("description").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Replay_without_a_trace_fails_cleanly()
    {
        CliRun.Of("simulate", "--arrivals", "trace", "--rate", "1", "--json").ShouldFailCleanly("--arrivals trace", "--trace");
    }

    [Theory]
    [InlineData("1", "4")]
    [InlineData("2", "40")]
    [InlineData("1", "60")]
    public void Goodput_never_exceeds_throughput_over_the_same_window(string machines, string rateRps)
    {
        // From under-loaded to overloaded (60 req/s on one machine drains long after the last arrival).
        var json = CliRun.Of("simulate", "--design", "baseline-h100", "--machines", machines, "--rate", rateRps, "--duration", "20", "--json").ShouldSucceed().Json();
        var (goodput, throughput) = (json.GetProperty("goodputRequestsPerSecond").GetDouble(), json.GetProperty("throughputRequestsPerSecond").GetDouble());
        Assert.True(goodput <= throughput, $"goodput {goodput} above throughput {throughput}");
        Assert.True(throughput > 0);
    }

    [Fact]
    public void Terminal_and_summary_state_the_splitwise_slo_checks_in_the_same_words()
    {
        using var folder = new TempFolder();
        var run = CliRun.Of("simulate", "--design", "splitwise-hh", "--prompt-machines", "1", "--token-machines", "1", "--rate", "6", "--duration", "20", "--report", folder.Path, "--sweep", "").ShouldSucceed();
        var summary = File.ReadAllText(Path.Combine(folder.Path, "summary.md"));
        var checks = summary.Split('\n').Where(line => line.StartsWith("- TTFT", StringComparison.Ordinal) || line.StartsWith("- TBT", StringComparison.Ordinal) || line.StartsWith("- E2E", StringComparison.Ordinal)).ToArray();
        Assert.Equal(9, checks.Length);
        foreach (var check in checks)
        {
            Assert.Contains(check, run.Output, StringComparison.Ordinal);
        }

        var count = checks.Count(line => line.EndsWith(": met", StringComparison.Ordinal));
        Assert.Contains($"{count} of 9 met", summary, StringComparison.Ordinal);
        Assert.Contains($"Splitwise SLO checks: {count} of 9 met", run.Output, StringComparison.Ordinal);
        Assert.Contains("SLO attainment (TTFT <= 2.00 s, TPOT <= 200.0 ms)", run.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null, "routing: token-jsq")]
    [InlineData("round-robin", "routing: round-robin")]
    public void A_routing_flag_beside_the_splitwisesim_preset_overrides_it(string? routing, string expected)
    {
        string[] args = ["simulate", "--compat", "splitwisesim", "--design", "baseline-h100", "--machines", "2", "--rate", "1", "--duration", "10", "--json"];
        var rules = CliRun.Of(routing is null ? args : [.. args, "--routing", routing]).ShouldSucceed().Json().GetProperty("rules").EnumerateArray().Select(r => r.GetString()).ToArray();
        Assert.Contains(expected, rules);
    }
}
