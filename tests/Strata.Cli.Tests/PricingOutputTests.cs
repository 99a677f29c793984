using System.Text.Json;

namespace Strata.Cli.Tests;

/// <summary>Every planning command says which scored model priced it and the error validation found for it.</summary>
public sealed class PricingOutputTests
{
    [Fact]
    public void Split_json_names_the_device_model_for_both_sides_with_its_validated_error()
    {
        var json = CliRun.Of("split", "--model", "mistral-7b", "--client-device", "snapdragon-8-gen-3", "--server-device", "a100-80gb", "--json").ShouldSucceed().Json();

        var priced = json.GetProperty("pricedBy").EnumerateArray().ToArray();
        Assert.Equal(2, priced.Length);
        Assert.All(priced, p => Assert.Equal("device-model", p.GetProperty("kind").GetString()));
        var server = priced.Single(p => p.GetProperty("device").GetString() == "a100-80gb");
        // The leave-one-model-out operator score recorded for A100 (docs/validation.md section 6).
        Assert.Equal(4.9, server.GetProperty("expectedError").GetProperty("operators").GetProperty("prefillMedianPercent").GetDouble());
        Assert.True(server.GetProperty("scored").GetBoolean());
        var phone = priced.Single(p => p.GetProperty("device").GetString() == "snapdragon-8-gen-3");
        Assert.Contains("not a whole GPU", phone.GetProperty("expectedError").GetProperty("note").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Split_table_prints_a_priced_by_line_per_side()
    {
        var output = CliRun.Of("split", "--model", "llama-2-7b", "--client-device", "snapdragon-8-gen-3").ShouldSucceed().Output;

        Assert.Contains("Priced by device-model (llama-2-7b on 1 x a100-80gb): expected error", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Estimate_of_a_measured_deployment_says_calibrated_roofline_with_the_held_out_error()
    {
        var json = CliRun.Of("estimate", "--model", "llama-2-70b", "--gpu", "dgx-a100", "--prompt", "512", "--output", "16", "--json").ShouldSucceed().Json();

        Assert.Equal("calibrated-roofline", json.GetProperty("pricedBy").GetString());
        var endToEnd = json.GetProperty("expectedError").GetProperty("endToEnd");
        Assert.Equal(3.7, endToEnd.GetProperty("prefillMedianPercent").GetDouble());
        Assert.Equal(JsonValueKind.Null, json.GetProperty("expectedError").GetProperty("operators").ValueKind);
    }

    [Fact]
    public void Swarm_plan_json_names_each_devices_scored_model()
    {
        var json = CliRun.Of("swarm", "plan", "--costs", "roofline", "--model", "llama-2-7b", "--precision", "fp16", "--devices", "a100-80gb,l4", "--placement", "cg-bp", "--json").ShouldSucceed().Json();

        Assert.StartsWith("device-model:llama-2-7b/fp16", json.GetProperty("costs").GetString(), StringComparison.Ordinal);
        var lines = json.GetProperty("pricedBy").EnumerateArray().Select(p => p.GetString()!).ToArray();
        Assert.Equal(2, lines.Length);
        Assert.All(lines, line => Assert.Contains("expected error", line, StringComparison.Ordinal));
    }
}
