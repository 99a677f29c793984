namespace Strata.Cli.Tests.Commands;

[Trait("Category", "Integration")]
public sealed class SimToRealCommandTests
{
    [Fact]
    public void Sim_to_real_on_the_tiny_preset_profiles_predicts_and_runs_every_case_through_both_halves_of_the_model()
    {
        var run = CliRun.Of("validate", "sim-to-real", "--preset", "tiny", "--rtt-ms", "20", "--concurrency", "1,2", "--prompt-tokens", "8", "--output-tokens", "6",
            "--runs", "2", "--repetitions", "3", "--json").ShouldSucceed().Json();
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

            // Two runs per case; the measured value is their median (of two: the mean), each run at least the floor too.
            var runs = c.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("e2eSeconds").GetDouble()).ToArray();
            Assert.Equal(2, runs.Length);
            Assert.All(runs, e2e => Assert.True(e2e >= floorSeconds, c.ToString()));
            Assert.Equal(runs.Average(), c.GetProperty("measuredE2eSeconds").GetDouble(), 9);
            Assert.All(c.GetProperty("roundTripSeconds").EnumerateObject(), rtt => Assert.True(rtt.Value.GetDouble() >= 0.02, c.ToString()));

            // Each case is predicted from costs measured again just before its runs; the first profile's prediction is shown beside it.
            var caseProfile = c.GetProperty("caseProfile");
            Assert.True(caseProfile.GetProperty("refreshed").GetBoolean());
            Assert.True(caseProfile.GetProperty("measurements").GetInt32() >= 2, c.ToString()); // the first profile and this case's refresh at least
            Assert.True(caseProfile.GetProperty("decodeSecondsPerBlock").GetDouble() > 0, c.ToString());
            Assert.True(c.GetProperty("predictedByInitialProfile").GetProperty("e2eSeconds").GetDouble() >= floorSeconds, c.ToString());

            // Decode batches per server, predicted and counted by the servers: the front server runs every session's
            // five decode steps (of six tokens) in batches of one to the case's sessions.
            var batches = c.GetProperty("decodeBatches").EnumerateArray().ToDictionary(b => b.GetProperty("server").GetString()!);
            Assert.Equal(["a-front", "b-back", "c-back"], batches.Keys.Order(StringComparer.Ordinal));
            var front = batches["a-front"];
            var sessions = c.GetProperty("concurrency").GetInt32();
            Assert.InRange(front.GetProperty("predictedRowsPerStep").GetDouble(), 1, sessions);
            Assert.InRange(front.GetProperty("measuredRowsPerStep").GetDouble(), 1, sessions);
            Assert.InRange(front.GetProperty("measuredStepsPerRun").GetDouble(), 5, 5 * sessions);
        }

        var profile = run.GetProperty("profile");
        Assert.Equal(3, profile.GetProperty("repetitions").GetInt32());
        Assert.Equal("batched servers, shared processors", run.GetProperty("predictorModel").GetString());
        Assert.Equal(Environment.ProcessorCount, profile.GetProperty("logicalProcessors").GetInt32());
        Assert.Equal(1, profile.GetProperty("decodeBatchCost")[0].GetProperty("value").GetDouble());
    }

    [Fact]
    public void Sim_to_real_refuses_bad_lists_with_one_sentence()
    {
        CliRun.Of("validate", "sim-to-real", "--rtt-ms", "fast").ShouldFailCleanly("--rtt-ms", "fast");
        CliRun.Of("validate", "sim-to-real", "--concurrency", "0").ShouldFailCleanly("--concurrency");
        CliRun.Of("validate", "sim-to-real", "--runs", "0").ShouldFailCleanly("--runs");
    }
}
