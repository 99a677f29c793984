using System.Globalization;
using System.Text.RegularExpressions;

namespace Strata.Cli.Tests.Commands;

public sealed partial class SplitCommandTests
{
    [Fact]
    public void Split_table_gives_server_load_a_unit_and_explains_the_sla_it_planned_for()
    {
        var run = CliRun.Of("split", "--model", "llama-2-7b", "--client-device", "snapdragon-8-gen-3", "--sla", "30").ShouldSucceed();
        Assert.Contains("Server load (FLOPs)", run.Output, StringComparison.Ordinal);
        Assert.Matches(LoadCell(), run.Output);
        Assert.DoesNotMatch(BareExponent(), run.Output);

        // The SLA left for the layers, what was asked, and what came off it, which add up.
        var sla = SlaText().Match(run.Output);
        Assert.True(sla.Success, run.Describe());
        var (left, asked, head) = (Seconds(sla.Groups["left"].Value), Seconds(sla.Groups["asked"].Value), Seconds(sla.Groups["head"].Value));
        Assert.Equal(30, asked, 2);
        Assert.Equal(asked, left + head, 1);
    }

    private static double Seconds(string text) => text.EndsWith(" ms", StringComparison.Ordinal)
        ? double.Parse(text[..^3], CultureInfo.InvariantCulture) / 1e3
        : double.Parse(text[..^2], CultureInfo.InvariantCulture);

    [GeneratedRegex(@"\d+(\.\d+)? TFLOP")]
    private static partial Regex LoadCell();

    [GeneratedRegex(@"\d\.\d+E\+\d+")]
    private static partial Regex BareExponent();

    [GeneratedRegex(@"SLA (?<left>[\d.]+ m?s) left for the layers = (?<asked>[\d.]+ m?s) asked, less (?<head>[\d.]+ m?s) of the LM head")]
    private static partial Regex SlaText();
}
