using System.Text.Json;
using Strata.Core.Identity;
using Strata.Core.Models;

namespace Strata.Core.Tests.Models;

public sealed class HuggingFaceConfigTests
{
    private static ModelArchitecture Parse(string json) =>
        HuggingFaceConfig.Parse(JsonDocument.Parse(json).RootElement, new ModelId("m"), "m", null, "test");

    [Fact]
    public void Llama_config_is_gated_untied_and_grouped_query()
    {
        var model = Parse("""{"model_type":"llama","hidden_size":8192,"num_hidden_layers":80,"num_attention_heads":64,"num_key_value_heads":8,"intermediate_size":28672,"vocab_size":32000,"tie_word_embeddings":false,"hidden_act":"silu","torch_dtype":"float16"}""");
        Assert.Equal(MlpKind.Gated, model.Mlp);
        Assert.False(model.TiedEmbeddings);
        Assert.Equal(8, model.KeyValueHeadCount);
        Assert.Equal(Precision.Fp16, model.NativePrecision);
    }

    [Fact]
    public void Bloom_field_names_and_defaults_are_understood()
    {
        var model = Parse("""{"model_type":"bloom","n_embed":14336,"n_layer":70,"n_head":112,"vocab_size":250880}""");
        Assert.Equal(14336, model.HiddenSize);
        Assert.Equal(70, model.LayerCount);
        Assert.Equal(112, model.KeyValueHeadCount);          // multi-head: as many KV heads as heads
        Assert.Equal(4 * 14336, model.IntermediateSize);     // 4 x hidden
        Assert.Equal(MlpKind.Plain, model.Mlp);
        Assert.True(model.TiedEmbeddings);                   // Hugging Face's default
    }

    [Fact]
    public void Falcon_multi_query_without_new_architecture_has_one_kv_head()
    {
        var model = Parse("""{"hidden_size":4544,"num_hidden_layers":32,"num_attention_heads":71,"multi_query":true,"vocab_size":65024}""");
        Assert.Equal(1, model.KeyValueHeadCount);
    }

    [Fact]
    public void A_non_integer_field_names_the_field_and_value()
    {
        var error = Assert.Throws<StrataException>(() => Parse("""{"hidden_size":"big","num_hidden_layers":2,"num_attention_heads":2,"vocab_size":10}"""));
        Assert.Contains("field 'hidden_size' is \"big\"; expected an integer", error.Message);
    }

    [Fact]
    public void A_config_file_on_disk_is_read()
    {
        var folder = Directory.CreateTempSubdirectory("strata-model-");
        try
        {
            File.WriteAllText(Path.Combine(folder.FullName, "config.json"), """{"hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"intermediate_size":128,"vocab_size":100,"model_type":"llama"}""");
            var model = Strata.Core.Catalogs.Catalog.BuiltIn.Model(folder.FullName);
            Assert.Equal(2, model.LayerCount);
            Assert.Equal(MlpKind.Gated, model.Mlp);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void Malformed_json_names_the_file_and_line()
    {
        var path = Path.Combine(Path.GetTempPath(), $"strata-config-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "{\n  \"hidden_size\": 64,\n  oops\n}");
        try
        {
            var error = Assert.Throws<StrataException>(() => HuggingFaceConfig.Load(path));
            Assert.Contains(path, error.Message);
            Assert.Contains("line 3", error.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
