namespace Strata.Cli.Tests;

public sealed class DemoCommandTests
{
    [Fact]
    public void Demo_estimates_only_prints_the_estimates_and_starts_nothing()
    {
        var run = CliRun.Of("demo", "--estimates-only").ShouldSucceed();

        Assert.Contains("Estimates", run.Output, StringComparison.Ordinal);
        Assert.Contains("llama-2-70b", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Inference paths", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Integration")]
    public void Demo_runs_every_path_on_real_child_processes_and_each_output_equals_the_local_reference()
    {
        var run = CliRun.Of("demo", "--requests", "2", "--max-tokens", "8").ShouldSucceed();

        foreach (var path in new[] { "swarm", "split", "phase-split", "gateway", "failover" })
        {
            Assert.Contains($"│ {path}", run.Output, StringComparison.Ordinal);
        }

        Assert.Contains("Every output equals the local reference", run.Output, StringComparison.Ordinal);
        Assert.Contains("1/1", run.Output.Split('\n').Single(line => line.Contains("│ failover", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--requests", "0", "--requests")]
    [InlineData("--max-tokens", "1", "--max-tokens")]
    public void Demo_rejects_out_of_range_sizes_before_starting_anything(string option, string value, string mention)
    {
        CliRun.Of("demo", option, value).ShouldFailCleanly(mention);
    }
}
