using System.Text.Json;

namespace Strata.Cli.Tests;

public sealed class CalibrateCommandTests
{
    [Fact]
    public void Calibrated_roofline_predicts_held_out_measurements_within_10_percent_median_and_25_percent_p90()
    {
        var json = CliRun.Of("calibrate", "--json").ShouldSucceed().Json();

        foreach (var quantity in new[] { "promptTime", "tokenTime" })
        {
            var summary = json.GetProperty(quantity);
            var median = summary.GetProperty("medianPercent").GetDouble();
            var p90 = summary.GetProperty("p90Percent").GetDouble();
            Assert.True(summary.GetProperty("count").GetInt32() > 0, $"{quantity}: no held-out predictions");
            Assert.True(median <= 10, $"{quantity}: median absolute error {median:F1}% > 10%");
            Assert.True(p90 <= 25, $"{quantity}: p90 absolute error {p90:F1}% > 25%");
        }

        var deployments = json.GetProperty("deployments");
        Assert.Equal(JsonValueKind.Array, deployments.ValueKind);
        Assert.Contains(deployments.EnumerateArray(), d => d.GetProperty("deployment").GetString() == "llama2-70b/a100-80gb/tp8");
        Assert.Equal(0.2, json.GetProperty("holdoutFraction").GetDouble());
        Assert.Equal(42, json.GetProperty("seed").GetInt32());
    }

    [Fact]
    public void Calibrate_table_output_shows_held_out_error()
    {
        var run = CliRun.Of("calibrate", "--seed", "7").ShouldSucceed();

        Assert.Contains("Held-out error", run.Output, StringComparison.Ordinal);
        Assert.Contains("seed 7", run.Output, StringComparison.Ordinal);
    }
}
