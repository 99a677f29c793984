namespace Strata.Cli.Tests;

public sealed class DemoCommandTests
{
    [Fact]
    public void Demo_exits_0_and_prints_the_catalogs_and_the_estimates()
    {
        var run = CliRun.Of("demo").ShouldSucceed();

        Assert.Contains("Models", run.Output, StringComparison.Ordinal);
        Assert.Contains("Devices", run.Output, StringComparison.Ordinal);
        Assert.Contains("Estimates", run.Output, StringComparison.Ordinal);
        Assert.Contains("llama-2-70b", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b[", run.Output, StringComparison.Ordinal);
    }
}
