using Strata.Cli.Tests.Reports;

namespace Strata.Cli.Tests.Commands;

public sealed class SplitStudyCommandTests
{
    [Fact]
    public void Json_compares_each_planner_on_the_same_requests()
    {
        var json = CliRun.Of("split", "study", "--requests", "200", "--planners", "dp,greedy,server", "--json").ShouldSucceed().Json();
        Assert.Equal(200, json.GetProperty("requests").GetInt32());
        var planners = json.GetProperty("planners").EnumerateArray().ToArray();
        Assert.Equal(["dp", "greedy", "server"], planners.Select(p => p.GetProperty("planner").GetString()));
        var dpLoad = planners[0].GetProperty("meanServerFlopsPerRequest").GetDouble();
        Assert.All(planners, p => Assert.True(dpLoad <= p.GetProperty("meanServerFlopsPerRequest").GetDouble() * (1 + 1e-12)));
        Assert.Equal(1.0, planners[2].GetProperty("serverLoadVsAllServer").GetDouble(), 12);
        Assert.All(planners, p => Assert.Equal(3, p.GetProperty("clients").GetArrayLength()));
        Assert.True(planners[0].GetProperty("maxRateRequestsPerSecond").GetDouble() > planners[2].GetProperty("maxRateRequestsPerSecond").GetDouble());
    }

    [Fact]
    public void A_scenario_drives_the_study_and_report_writes_its_charts()
    {
        using var folder = new TempFolder();
        var scenario = Path.Combine(RepositoryRoot(), "scenarios", "split-mixed-clients.yaml");
        var json = CliRun.Of("split", "study", "--scenario", scenario, "--requests", "150", "--report", folder.Path, "--json").ShouldSucceed().Json();
        Assert.Equal("split-mixed-clients", json.GetProperty("study").GetString());
        Assert.Equal(["server-load.png", "max-rate.png", "split-per-client.png", "summary.md"], json.GetProperty("report").EnumerateArray().Select(e => Path.GetFileName(e.GetString())));
        Assert.Contains("| dp | phones |", File.ReadAllText(Path.Combine(folder.Path, "summary.md")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--planners", "dp,magic", "magic")]
    [InlineData("--headroom", "1", "headroom")]
    [InlineData("--concurrency", "0", "concurrency")]
    public void Bad_study_options_fail_cleanly(string option, string value, string mention)
    {
        CliRun.Of("split", "study", "--requests", "20", option, value, "--json").ShouldFailCleanly(mention);
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Strata.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Strata.slnx not found above the test binaries.");
    }
}
