using Strata.Core.Catalogs;
using Strata.Core.Hardware;
using Strata.Core.Models;

namespace Strata.Core.Tests.Catalogs;

public sealed class CatalogTests
{
    [Theory]
    [InlineData("llama-2-7b")]
    [InlineData("llama-2-13b")]
    [InlineData("llama-2-70b")]
    [InlineData("llama-3-8b")]
    [InlineData("llama-3-70b")]
    [InlineData("bloom-7b1")]
    [InlineData("bloom-176b")]
    [InlineData("falcon-40b")]
    [InlineData("opt-13b")]
    [InlineData("opt-66b")]
    [InlineData("opt-175b")]
    [InlineData("mistral-7b")]
    [InlineData("tiny-llama-test")]
    public void Built_in_catalog_has_every_required_model(string id)
    {
        var model = Catalog.BuiltIn.Model(id);
        Assert.Equal(id, model.Id.Value);
        Assert.False(string.IsNullOrWhiteSpace(model.Source));
    }

    [Theory]
    [InlineData("a100-40gb")]
    [InlineData("a100-80gb")]
    [InlineData("h100-80gb")]
    [InlineData("h100-80gb-pcap")]
    [InlineData("h200")]
    [InlineData("l4")]
    [InlineData("t4")]
    [InlineData("a10g")]
    [InlineData("v100")]
    [InlineData("rtx-3060")]
    [InlineData("rtx-3090")]
    [InlineData("rtx-4090")]
    [InlineData("rtx-a4000")]
    [InlineData("rtx-a5000")]
    [InlineData("a100-mig-1g.10gb")]
    [InlineData("snapdragon-8-gen-3")]
    [InlineData("laptop-core-i7-13700h")]
    [InlineData("jetson-agx-orin-64gb")]
    public void Built_in_catalog_has_every_required_device_with_its_source(string id)
    {
        var device = Catalog.BuiltIn.Device(id);
        Assert.True(device.MemoryBytes > 0);
        Assert.True(device.MemoryBandwidthBytesPerSecond > 0);
        Assert.True(device.PeakFlopsFor(Precision.Fp16) > 0);
        Assert.False(string.IsNullOrWhiteSpace(device.Source));
    }

    [Fact]
    public void Published_model_sizes_come_out_of_the_config_fields()
    {
        // Parameter counts as published (within 3%): biases and norms are not counted.
        Assert.InRange(Catalog.BuiltIn.Model("llama-2-7b").TotalParameters, 6.6e9, 6.8e9);
        Assert.InRange(Catalog.BuiltIn.Model("llama-2-70b").TotalParameters, 68.5e9, 69.5e9);
        Assert.InRange(Catalog.BuiltIn.Model("llama-3-8b").TotalParameters, 7.9e9, 8.1e9);
        Assert.InRange(Catalog.BuiltIn.Model("bloom-176b").TotalParameters, 174e9, 178e9);
        Assert.InRange(Catalog.BuiltIn.Model("falcon-40b").TotalParameters, 40e9, 42.5e9);
        Assert.InRange(Catalog.BuiltIn.Model("opt-175b").TotalParameters, 172e9, 178e9);
        Assert.InRange(Catalog.BuiltIn.Model("mistral-7b").TotalParameters, 7.1e9, 7.3e9);
    }

    [Fact]
    public void Grouped_query_models_have_fewer_kv_heads()
    {
        var llama70 = Catalog.BuiltIn.Model("llama-2-70b");
        Assert.Equal(64, llama70.AttentionHeadCount);
        Assert.Equal(8, llama70.KeyValueHeadCount);
        Assert.Equal(128, llama70.HeadDimension);
        Assert.Equal(1024, llama70.KeyValueDimension);
        Assert.Equal(8, Catalog.BuiltIn.Model("falcon-40b").KeyValueHeadCount);
        Assert.Equal(32, Catalog.BuiltIn.Model("llama-2-7b").KeyValueHeadCount);
    }

    [Fact]
    public void Machines_resolve_by_id_device_id_or_n_x_device()
    {
        Assert.Equal(8, Catalog.BuiltIn.Machine("dgx-a100").DeviceCount);
        var single = Catalog.BuiltIn.Machine("l4");
        Assert.Equal(1, single.DeviceCount);
        var four = Catalog.BuiltIn.Machine("4xl4");
        Assert.Equal(4, four.DeviceCount);
        Assert.Equal(4 * single.PricePerHour, four.PricePerHour, 9);
    }

    [Fact]
    public void Unknown_names_suggest_the_closest_id()
    {
        var error = Assert.Throws<StrataException>(() => Catalog.BuiltIn.Model("llama-2-7"));
        Assert.Contains("Unknown model 'llama-2-7'", error.Message);
        Assert.Contains("Did you mean 'llama-2-7b'?", error.Message);
        Assert.Contains("Did you mean 'a100-80gb'?", Assert.Throws<StrataException>(() => Catalog.BuiltIn.Device("a100-80")).Message);
    }

    [Fact]
    public void A_user_file_adds_and_overrides_entries()
    {
        var path = Path.Combine(Path.GetTempPath(), $"strata-catalog-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """
            {
              "devices": [
                { "id": "my-npu", "kind": "edge", "memoryBytes": 8e9, "memoryBandwidthBytesPerSecond": 1e11, "peakFlopsPerSecond": { "fp16": 2e13 } },
                { "id": "l4", "name": "L4 (measured)", "kind": "gpu", "memoryBytes": 2.4e10, "memoryBandwidthBytesPerSecond": 2.5e11, "peakFlopsPerSecond": { "fp16": 1e14 } }
              ],
              "models": [ { "id": "my-model", "config": { "hidden_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "vocab_size": 100 } } ]
            }
            """);
        try
        {
            var catalog = Catalog.BuiltIn.WithFile(path);

            Assert.Equal(DeviceKind.Edge, catalog.Device("my-npu").Kind);
            Assert.Equal("L4 (measured)", catalog.Device("l4").Name);
            Assert.Equal(512, catalog.Model("my-model").IntermediateSize); // 4 x hidden when not given
            Assert.Equal("NVIDIA L4", Catalog.BuiltIn.Device("l4").Name[..9]);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("{ \"devices\": [ { \"id\": \"x\", \"kind\": \"gpu\", \"memoryBytes\": -1, \"memoryBandwidthBytesPerSecond\": 1, \"peakFlopsPerSecond\": { \"fp16\": 1 } } ] }", "device 'x' memoryBytes is -1; expected a number > 0")]
    [InlineData("{ \"devices\": [ { \"id\": \"x\", \"kind\": \"tpu\", \"memoryBytes\": 1, \"memoryBandwidthBytesPerSecond\": 1, \"peakFlopsPerSecond\": { \"fp16\": 1 } } ] }", "field 'kind' is 'tpu'")]
    [InlineData("{ \"models\": [ { \"id\": \"m\", \"config\": { \"hidden_size\": 100, \"num_hidden_layers\": 2, \"num_attention_heads\": 3, \"vocab_size\": 10 } } ] }", "hidden_size 100 is not a multiple of num_attention_heads 3")]
    [InlineData("{ \"models\": [ { \"id\": \"m\", \"config\": { \"num_hidden_layers\": 2 } } ] }", "has no 'hidden_size' field")]
    [InlineData("{ \"machines\": [ { \"id\": \"m\", \"device\": \"nope\", \"deviceCount\": 2 } ] }", "field 'device' is 'nope'")]
    [InlineData("{ \"devices\": [ ", "not valid JSON")]
    public void A_malformed_user_catalog_names_file_entry_field_and_value(string json, string expected)
    {
        var path = Path.Combine(Path.GetTempPath(), $"strata-bad-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        try
        {
            var error = Assert.Throws<StrataException>(() => Catalog.BuiltIn.WithFile(path));
            Assert.Contains(path, error.Message);
            Assert.Contains(expected, error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_missing_user_catalog_is_a_clear_error() =>
        Assert.Contains("does not exist", Assert.Throws<StrataException>(() => Catalog.BuiltIn.WithFile("/no/such/catalog.json")).Message);
}
