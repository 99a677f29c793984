using System.Text.Json;

namespace Strata.Cli.Tests;

public sealed class SwarmCommandTests
{
    [Fact]
    public void Json_lists_every_placement_and_routing_pair_with_the_named_fields()
    {
        var json = CliRun.Of("swarm", "--requests", "20", "--rate", "0.5", "--placement", "petals,cg-bp", "--routing", "petals,ws-rr,shortest-path", "--json").ShouldSucceed().Json();
        var results = json.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(6, results.Length);
        foreach (var result in results)
        {
            foreach (var field in new[] { "placement", "routing", "meanPerTokenSeconds", "meanTtftSeconds", "p99PerTokenSeconds", "completed", "failed", "planSeconds" })
            {
                Assert.True(result.TryGetProperty(field, out _), $"missing {field}");
            }

            Assert.Equal(20, result.GetProperty("completed").GetInt32() + result.GetProperty("failed").GetInt32());
        }
    }

    [Fact]
    public void The_same_seed_prints_the_same_results_apart_from_plan_time()
    {
        string[] args = ["swarm", "--topology", "abvt", "--servers", "12", "--clients", "3", "--requests", "30", "--rate", "0.5", "--seed", "9", "--fail-rate", "0.01", "--rejoin-after", "60", "--json"];
        Assert.Equal(WithoutPlanTime(CliRun.Of(args).ShouldSucceed().Output), WithoutPlanTime(CliRun.Of(args).ShouldSucceed().Output));
    }

    [Fact]
    public void Plan_prints_each_server_s_node_device_and_blocks()
    {
        var json = CliRun.Of("swarm", "plan", "--placement", "cg-bp", "--topology", "bellcanada", "--servers", "10", "--json").ShouldSucceed().Json();
        var placement = json.GetProperty("placements")[0];
        Assert.Equal("cg-bp", placement.GetProperty("placement").GetString());
        Assert.True(placement.GetProperty("theorem2BoundSecondsPerToken").GetDouble() > 0);
        var servers = placement.GetProperty("servers").EnumerateArray().ToArray();
        Assert.Equal(10, servers.Length);
        var covered = new bool[70];
        foreach (var server in servers)
        {
            Assert.False(string.IsNullOrEmpty(server.GetProperty("node").GetString()));
            Assert.False(string.IsNullOrEmpty(server.GetProperty("device").GetString()));
            var first = server.GetProperty("firstBlock").GetInt32();
            for (var b = first; b < first + server.GetProperty("blockCount").GetInt32(); b++)
            {
                covered[b] = true;
            }
        }

        Assert.All(covered, Assert.True);
    }

    [Fact]
    public void The_table_and_report_are_written()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"strata-swarm-report-{Guid.NewGuid():N}");
        try
        {
            var run = CliRun.Of("swarm", "--requests", "10", "--report", directory).ShouldSucceed();
            Assert.Contains("cg-bp", run.Output, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(directory, "latency.png")));
            Assert.True(File.Exists(Path.Combine(directory, "placement-cg-bp.png")));
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    [Fact]
    public void A_scenario_file_runs()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Strata.slnx")))
        {
            root = Path.GetDirectoryName(root)!;
        }

        var json = CliRun.Of("swarm", "--scenario", Path.Combine(root, "scenarios", "swarm-clustered.yaml"), "--requests", "10", "--json").ShouldSucceed().Json();
        Assert.Equal(4, json.GetProperty("results").GetArrayLength());
    }

    [Fact]
    public void A_bad_topology_line_is_one_clear_error()
    {
        using var file = new TempFile("NODES 2\nlabel x y\n0_A 0 0\n1_B 0 0\nEDGES 1\nlabel src dest weight bw delay\nedge_0 0 7 1 1000 10\n", ".graph");
        CliRun.Of("swarm", "--topology", file.Path).ShouldFailCleanly("line 7", "dest");
    }

    [Theory]
    [InlineData("--topology", "no-such-topology")]
    [InlineData("--placement", "greedy")]
    [InlineData("--routing", "round-robin")]
    [InlineData("--servers", "1")]
    [InlineData("--churn", "10:99:fail")]
    [InlineData("--forwarding", "carrier-pigeon")]
    [InlineData("--waiting", "forever")]
    [InlineData("--clustered-delays", "both")]
    [InlineData("--announce-period", "-5")]
    public void Bad_flags_are_one_clear_error(string flag, string value) =>
        CliRun.Of("swarm", flag, value, "--requests", "5").ShouldFailCleanly();

    [Fact]
    public void Paper_artefacts_add_their_per_request_constants_to_a_request_nothing_queues_behind()
    {
        // One request: the held delays cannot make anything wait, so they add exactly their constants.
        string[] args = ["swarm", "--topology", "gtsce", "--servers", "9", "--rate", "0.1", "--requests", "1", "--output", "128", "--placement", "cg-bp", "--routing", "ws-rr", "--seed", "2", "--json"];
        var plain = CliRun.Of(args).ShouldSucceed().Json().GetProperty("results")[0].GetProperty("meanPerTokenSeconds").GetDouble();
        var artefacts = CliRun.Of([.. args, "--paper-artefacts"]).ShouldSucceed().Json().GetProperty("results")[0].GetProperty("meanPerTokenSeconds").GetDouble();
        Assert.Equal(plain + ((60 + 0.070) / 128), artefacts, 1e-9);
    }

    [Fact]
    public void A_server_that_cannot_hold_one_block_is_one_clear_error() =>
        CliRun.Of("swarm", "--costs", "roofline", "--precision", "fp32", "--devices", "snapdragon-8-gen-3").ShouldFailCleanly("cannot hold one block");

    [Fact]
    public void A_milp_time_limit_with_no_solution_is_one_clear_error() =>
        CliRun.Of("swarm", "plan", "--placement", "milp", "--servers", "26", "--milp-time-limit", "0.001").ShouldFailCleanly("time limit");

    private static string WithoutPlanTime(string json)
    {
        using var document = JsonDocument.Parse(json);
        var results = document.RootElement.GetProperty("results").EnumerateArray()
            .Select(r => string.Join(';', r.EnumerateObject().Where(p => p.Name != "planSeconds").Select(p => $"{p.Name}={p.Value.GetRawText()}")));
        return string.Join('\n', results);
    }
}
