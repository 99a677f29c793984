using System.Text.Json;

namespace Strata.Cli.Tests;

public sealed class EstimateCommandTests
{
    // Splitwise (Patel et al., ISCA 2024) Table IV, conversation median request: 1020 prompt and 129 output tokens.
    private static readonly string[] ConversationOnDgxA100 =
        ["estimate", "--model", "llama-2-70b", "--gpu", "dgx-a100", "--prompt", "1020", "--output", "129"];

    private static string[] Args(string[] baseArgs, params string[] extra) => [.. baseArgs, .. extra];

    [Fact]
    public void Json_estimate_has_every_field_with_sane_values()
    {
        var json = CliRun.Of(Args(ConversationOnDgxA100, "--json")).ShouldSucceed().Json();

        var ttft = json.GetProperty("ttftSeconds").GetDouble();
        var tbt = json.GetProperty("tbtSeconds").GetDouble();
        var e2e = json.GetProperty("e2eSeconds").GetDouble();
        Assert.True(ttft > 0, $"ttftSeconds {ttft}");
        Assert.True(tbt > 0, $"tbtSeconds {tbt}");
        Assert.True(e2e >= ttft, $"e2eSeconds {e2e} < ttftSeconds {ttft}");
        // 69B parameters at 2 bytes: about 138 GB.
        var weights = json.GetProperty("weightsBytes").GetDouble();
        Assert.InRange(weights, 130e9, 145e9);
        Assert.Equal(327_680, json.GetProperty("kvBytesPerToken").GetDouble());
        Assert.True(json.GetProperty("fits").GetBoolean());
        Assert.True(json.GetProperty("maxBatch").GetInt32() >= 1, $"maxBatch {json.GetProperty("maxBatch")}");
        Assert.Equal("llama-2-70b", json.GetProperty("model").GetString());
        Assert.Equal(8, json.GetProperty("tensorParallel").GetInt32());
    }

    [Theory]
    [InlineData("dgx-a100")]
    [InlineData("dgx-h100")]
    [InlineData("4xa100-80gb")]
    [InlineData("a100-80gb")]
    public void Llama_2_70b_kv_cache_is_327680_bytes_per_token_in_fp16_on_any_hardware(string gpu)
    {
        // 2 (K and V) x 8 KV heads x 128 head width x 2 bytes x 80 layers: grouped-query attention, not 64 heads.
        var json = CliRun.Of("estimate", "--model", "llama-2-70b", "--gpu", gpu, "--precision", "fp16", "--prompt", "100", "--output", "10", "--json")
            .ShouldSucceed().Json();

        Assert.Equal(2.0 * 8 * 128 * 2 * 80, json.GetProperty("kvBytesPerToken").GetDouble());
    }

    [Fact]
    public void End_to_end_time_is_ttft_plus_every_decode_step()
    {
        var json = CliRun.Of(Args(ConversationOnDgxA100, "--json")).ShouldSucceed().Json();

        var expected = json.GetProperty("ttftSeconds").GetDouble() + 128 * json.GetProperty("tbtSeconds").GetDouble();
        var actual = json.GetProperty("e2eSeconds").GetDouble();
        Assert.True(Math.Abs(actual - expected) <= 1e-9 * expected, $"e2e {actual} s, ttft + 128 x tbt = {expected} s");
    }

    [Fact]
    public void Max_batch_is_the_largest_batch_whose_kv_cache_fits_beside_the_weights()
    {
        var json = CliRun.Of(Args(ConversationOnDgxA100, "--json")).ShouldSucceed().Json();

        var free = json.GetProperty("usableMemoryBytes").GetDouble() - json.GetProperty("weightsBytes").GetDouble();
        var perRequest = json.GetProperty("kvBytesPerToken").GetDouble() * (1020 + 129);
        var maxBatch = json.GetProperty("maxBatch").GetInt32();
        Assert.True(maxBatch * perRequest <= free, $"{maxBatch} requests need {maxBatch * perRequest} B; {free} B free");
        Assert.True((maxBatch + 1) * perRequest > free, $"{maxBatch + 1} requests would also fit in {free} B");
    }

    [Fact]
    public void A_model_too_large_for_the_device_reports_it_does_not_fit()
    {
        var json = CliRun.Of("estimate", "--model", "llama-2-70b", "--gpu", "l4", "--prompt", "128", "--output", "16", "--json")
            .ShouldSucceed().Json();

        Assert.False(json.GetProperty("fits").GetBoolean());
        Assert.Equal(0, json.GetProperty("maxBatch").GetInt32());
    }

    [Fact]
    public void Calibrated_roofline_is_within_a_factor_of_two_of_splitwise_medians()
    {
        // Splitwise Table IV, conversation on DGX-A100: TTFT P50 155 ms, TBT P50 40 ms.
        var json = CliRun.Of(Args(ConversationOnDgxA100, "--json")).ShouldSucceed().Json();

        Assert.InRange(json.GetProperty("ttftSeconds").GetDouble(), 0.155 / 2, 0.155 * 2);
        Assert.InRange(json.GetProperty("tbtSeconds").GetDouble(), 0.040 / 2, 0.040 * 2);
        Assert.StartsWith("fitted", json.GetProperty("calibration").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void A_larger_batch_takes_longer_per_step_but_yields_more_tokens_per_second()
    {
        var one = CliRun.Of(Args(ConversationOnDgxA100, "--json")).ShouldSucceed().Json();
        var eight = CliRun.Of(Args(ConversationOnDgxA100, "--json", "--batch", "8")).ShouldSucceed().Json();

        Assert.True(eight.GetProperty("ttftSeconds").GetDouble() > one.GetProperty("ttftSeconds").GetDouble());
        Assert.True(eight.GetProperty("tbtSeconds").GetDouble() >= one.GetProperty("tbtSeconds").GetDouble());
        Assert.True(eight.GetProperty("throughputTokensPerSecond").GetDouble() > one.GetProperty("throughputTokensPerSecond").GetDouble());
    }

    [Fact]
    public void Table_output_names_ttft_and_the_deployment()
    {
        var run = CliRun.Of(ConversationOnDgxA100).ShouldSucceed();

        Assert.Contains("TTFT", run.Output, StringComparison.Ordinal);
        Assert.Contains("Time between tokens", run.Output, StringComparison.Ordinal);
        Assert.Contains("End-to-end", run.Output, StringComparison.Ordinal);
        Assert.Contains("Llama-2-70B", run.Output, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\u001b[", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Measured_profile_works_on_a_measured_deployment_and_agrees_with_the_roofline()
    {
        var measured = CliRun.Of(Args(ConversationOnDgxA100, "--profile", "measured", "--json")).ShouldSucceed().Json();
        var roofline = CliRun.Of(Args(ConversationOnDgxA100, "--json")).ShouldSucceed().Json();

        Assert.Equal("measured", measured.GetProperty("profile").GetString());
        foreach (var field in new[] { "ttftSeconds", "tbtSeconds" })
        {
            var m = measured.GetProperty(field).GetDouble();
            var r = roofline.GetProperty(field).GetDouble();
            Assert.True(m > 0, $"measured {field} {m}");
            // Both are fitted to the same measurements of this deployment.
            Assert.True(Math.Abs(m - r) <= 0.3 * m, $"{field}: measured {m} s, calibrated roofline {r} s");
        }
    }

    [Fact]
    public void Measured_profile_on_an_unmeasured_deployment_fails_with_one_sentence_naming_it()
    {
        CliRun.Of("estimate", "--model", "llama-2-7b", "--gpu", "l4", "--prompt", "1020", "--output", "129", "--profile", "measured")
            .ShouldFailCleanly("llama-2-7b", "l4", "--profile roofline");
    }

    [Fact]
    public void The_same_estimate_twice_gives_identical_json()
    {
        var first = CliRun.Of(Args(ConversationOnDgxA100, "--json")).ShouldSucceed();
        var second = CliRun.Of(Args(ConversationOnDgxA100, "--json")).ShouldSucceed();

        Assert.Equal(first.Output, second.Output);
    }

    [Fact]
    public void Flag_order_does_not_change_the_estimate()
    {
        var forward = CliRun.Of(Args(ConversationOnDgxA100, "--json")).ShouldSucceed();
        var reversed = CliRun.Of("estimate", "--json", "--output", "129", "--prompt", "1020", "--gpu", "dgx-a100", "--model", "llama-2-70b").ShouldSucceed();

        Assert.Equal(forward.Output, reversed.Output);
    }

    [Fact]
    public void Json_output_is_one_document_with_nothing_else_on_stdout()
    {
        var run = CliRun.Of(Args(ConversationOnDgxA100, "--json")).ShouldSucceed();

        Assert.Equal(JsonValueKind.Object, run.Json().ValueKind);
        Assert.StartsWith("{", run.Output, StringComparison.Ordinal);
    }
}
