using System.Text.Json;

namespace Strata.Cli.Tests;

public sealed class CatalogCommandTests
{
    // A device that is in no built-in catalog: 96 GiB at 4 TB/s, 500 TFLOP/s fp16.
    private const string UserCatalog = """
        {
          "devices": [
            {
              "id": "test-gpu-96gb",
              "name": "Test GPU 96GB",
              "kind": "gpu",
              "memoryBytes": 103079215104,
              "memoryBandwidthBytesPerSecond": 4e12,
              "peakFlopsPerSecond": { "fp16": 5e14, "bf16": 5e14 },
              "interconnect": { "name": "test link", "bandwidthBytesPerSecond": 4e11, "latencySeconds": 5e-6 }
            }
          ],
          "machines": [
            { "id": "test-box", "name": "Test box (4x Test GPU)", "device": "test-gpu-96gb", "deviceCount": 4 }
          ]
        }
        """;

    private static string[] Ids(JsonElement array) => [.. array.EnumerateArray().Select(entry => entry.GetProperty("id").GetString()!)];

    [Theory]
    [InlineData("models", "llama-2-70b")]
    [InlineData("devices", "a100-80gb")]
    [InlineData("machines", "dgx-a100")]
    public void Catalog_list_json_is_an_array_containing_a_known_id(string list, string id)
    {
        var json = CliRun.Of("catalog", list, "--json").ShouldSucceed().Json();

        Assert.Equal(JsonValueKind.Array, json.ValueKind);
        Assert.Contains(id, Ids(json));
    }

    [Theory]
    [InlineData("models", "llama-2-70b")]
    [InlineData("devices", "h100-80gb")]
    [InlineData("machines", "dgx-h100")]
    public void Catalog_list_table_names_a_known_id(string list, string id)
    {
        var run = CliRun.Of("catalog", list).ShouldSucceed();

        Assert.Contains(id, run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Catalog_show_prints_the_model_with_its_numbers()
    {
        var run = CliRun.Of("catalog", "show", "llama-2-70b").ShouldSucceed();

        Assert.Contains("llama-2-70b", run.Output, StringComparison.Ordinal);
        Assert.Contains("hiddenSize", run.Output, StringComparison.Ordinal);
        Assert.Contains("8192", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Catalog_show_json_gives_the_grouped_query_layout_of_llama_2_70b()
    {
        var json = CliRun.Of("catalog", "show", "llama-2-70b", "--json").ShouldSucceed().Json();

        Assert.Equal(80, json.GetProperty("layers").GetInt32());
        Assert.Equal(64, json.GetProperty("attentionHeads").GetInt32());
        Assert.Equal(8, json.GetProperty("keyValueHeads").GetInt32());
        Assert.Equal(128, json.GetProperty("headDimension").GetInt32());
    }

    [Theory]
    [InlineData("a100-80gb")]
    [InlineData("dgx-a100")]
    public void Catalog_show_finds_devices_and_machines_too(string id)
    {
        var json = CliRun.Of("catalog", "show", id, "--json").ShouldSucceed().Json();

        Assert.Equal(id, json.GetProperty("id").GetString());
    }

    [Fact]
    public void Catalog_show_of_an_unknown_name_fails_with_one_sentence_and_exit_code_2()
    {
        CliRun.Of("catalog", "show", "nope").ShouldFailCleanly("nope", "strata catalog models");
    }

    [Fact]
    public void Catalog_show_without_a_name_fails_with_one_sentence_and_exit_code_2()
    {
        CliRun.Of("catalog", "show").ShouldFailCleanly("show");
    }

    [Fact]
    public void User_catalog_adds_a_device_and_a_machine_that_catalog_lists()
    {
        using var file = new TempFile(UserCatalog, ".json");

        var devices = CliRun.Of("--catalog", file.Path, "catalog", "devices", "--json").ShouldSucceed().Json();
        var machines = CliRun.Of("catalog", "machines", "--json", "--catalog", file.Path).ShouldSucceed().Json();

        Assert.Contains("test-gpu-96gb", Ids(devices));
        Assert.Contains("a100-80gb", Ids(devices));
        Assert.Contains("test-box", Ids(machines));
    }

    [Theory]
    [InlineData("test-gpu-96gb", 1)]
    [InlineData("test-box", 4)]
    [InlineData("2xtest-gpu-96gb", 2)]
    public void User_catalog_adds_hardware_that_estimate_can_use(string gpu, int devices)
    {
        using var file = new TempFile(UserCatalog, ".json");

        var json = CliRun.Of("--catalog", file.Path, "estimate", "--model", "llama-2-7b", "--gpu", gpu, "--prompt", "512", "--output", "32", "--json")
            .ShouldSucceed().Json();

        Assert.Equal("test-gpu-96gb", json.GetProperty("device").GetString());
        Assert.Equal(devices, json.GetProperty("tensorParallel").GetInt32());
        Assert.Equal(103079215104.0 * devices * 0.9, json.GetProperty("usableMemoryBytes").GetDouble(), 1e-6);
        Assert.True(json.GetProperty("ttftSeconds").GetDouble() > 0);
    }

    [Fact]
    public void User_catalog_replaces_a_built_in_device_of_the_same_id()
    {
        // An L4 with 256 GiB instead of 24 GB: now Llama-2-70B fits on one.
        using var file = new TempFile(
            """{ "devices": [ { "id": "l4", "kind": "gpu", "memoryBytes": 274877906944, "memoryBandwidthBytesPerSecond": 3e11, "peakFlopsPerSecond": { "fp16": 1.2e14 } } ] }""",
            ".json");
        string[] estimate = ["estimate", "--model", "llama-2-70b", "--gpu", "l4", "--prompt", "128", "--output", "8", "--json"];

        var builtIn = CliRun.Of(estimate).ShouldSucceed().Json();
        var replaced = CliRun.Of(["--catalog", file.Path, .. estimate]).ShouldSucceed().Json();

        Assert.False(builtIn.GetProperty("fits").GetBoolean());
        Assert.True(replaced.GetProperty("fits").GetBoolean());
    }
}
