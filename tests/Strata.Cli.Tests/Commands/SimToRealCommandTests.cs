namespace Strata.Cli.Tests.Commands;

[Trait("Category", "Integration")]
public sealed class SimToRealCommandTests
{
    [Fact]
    public void Sim_to_real_on_the_tiny_preset_profiles_predicts_and_runs_every_case_through_both_halves_of_the_model()
    {
        var run = CliRun.Of("validate", "sim-to-real", "--preset", "tiny", "--rtt-ms", "20", "--concurrency", "1,2", "--prompt-tokens", "8", "--output-tokens", "6",
            "--repetitions", "3", "--json").ShouldSucceed().Json();
        var cases = run.GetProperty("cases").EnumerateArray().ToArray();
        Assert.Equal([1, 2], cases.Select(c => c.GetProperty("concurrency").GetInt32()));
        foreach (var c in cases)
        {
            var route = c.GetProperty("route").GetString()!;
            Assert.StartsWith("a-front -> ", route, StringComparison.Ordinal);
            // Two hops of a 20 ms emulated round trip per step, 6 steps plus the close: both sides must pay at least that.
            const double floorSeconds = ((2 * 6) + 1) * 0.02;
            Assert.True(c.GetProperty("predictedE2eSeconds").GetDouble() >= floorSeconds, c.ToString());
            Assert.True(c.GetProperty("measuredE2eSeconds").GetDouble() >= floorSeconds, c.ToString());
            Assert.True(double.IsFinite(c.GetProperty("e2eError").GetDouble()));
        }

        Assert.Equal(3, run.GetProperty("profile").GetProperty("repetitions").GetInt32());
    }

    [Fact]
    public void Sim_to_real_refuses_bad_lists_with_one_sentence()
    {
        CliRun.Of("validate", "sim-to-real", "--rtt-ms", "fast").ShouldFailCleanly("--rtt-ms", "fast");
        CliRun.Of("validate", "sim-to-real", "--concurrency", "0").ShouldFailCleanly("--concurrency");
    }
}
