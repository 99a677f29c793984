using Strata.Core;
using Strata.Runtime.Engine;
using Strata.Runtime.Weights;

namespace Strata.Runtime.Tests.Weights;

public sealed class ModelFolderTests
{
    [Fact]
    public void The_same_seed_writes_the_same_bytes_and_another_seed_does_not()
    {
        var a = TestModels.NewDirectory();
        var b = TestModels.NewDirectory();
        var c = TestModels.NewDirectory();
        RandomModelWriter.Write(a, ModelPreset.Tiny.ToConfig(), 5);
        RandomModelWriter.Write(b, ModelPreset.Tiny.ToConfig(), 5);
        RandomModelWriter.Write(c, ModelPreset.Tiny.ToConfig(), 6);
        Assert.Equal(File.ReadAllBytes(Path.Combine(a, "model.safetensors")), File.ReadAllBytes(Path.Combine(b, "model.safetensors")));
        Assert.Equal(File.ReadAllText(Path.Combine(a, "config.json")), File.ReadAllText(Path.Combine(b, "config.json")));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(a, "model.safetensors")), File.ReadAllBytes(Path.Combine(c, "model.safetensors")));
    }

    [Fact]
    public void Config_round_trips_and_uses_hugging_face_tensor_names()
    {
        var directory = TestModels.TinyDirectory();
        var config = ModelFolder.LoadConfig(directory);
        Assert.Equal(ModelPreset.Tiny.HiddenSize, config.HiddenSize);
        Assert.Equal(ModelPreset.Tiny.LayerCount, config.LayerCount);
        Assert.Equal(ModelPreset.Tiny.KeyValueHeadCount, config.KeyValueHeadCount);
        Assert.Equal(1e-5, config.RmsNormEpsilon);
        Assert.False(config.Architecture.TiedEmbeddings);
        using var reader = SafetensorsReader.Open(Path.Combine(directory, "model.safetensors"));
        Assert.Contains("model.embed_tokens.weight", reader.Tensors.Keys);
        Assert.Contains("model.layers.3.self_attn.k_proj.weight", reader.Tensors.Keys);
        Assert.Contains("model.layers.0.mlp.down_proj.weight", reader.Tensors.Keys);
        Assert.Contains("model.norm.weight", reader.Tensors.Keys);
        Assert.Contains("lm_head.weight", reader.Tensors.Keys);
        Assert.Equal([32L, 64L], reader.Info("model.layers.0.self_attn.k_proj.weight").Shape);
    }

    [Theory]
    [InlineData(TensorDtype.F16)]
    [InlineData(TensorDtype.BF16)]
    public void Half_precision_models_load_and_generate_close_to_fp32(TensorDtype dtype)
    {
        var directory = TestModels.NewDirectory();
        RandomModelWriter.Write(directory, ModelPreset.Tiny.ToConfig(), 1, dtype);
        var model = ModelFolder.LoadModel(directory);
        var reference = TestModels.Tiny();
        var hidden = model.Embed([1, 2, 3]);
        model.ForwardBlocks(model.CreateSession(), 0, model.Config.LayerCount, hidden, 3);
        var expected = reference.Embed([1, 2, 3]);
        reference.ForwardBlocks(reference.CreateSession(), 0, reference.Config.LayerCount, expected, 3);
        TestData.AssertClose(expected, hidden, dtype == TensorDtype.F16 ? 0.05 : 0.2, $"{dtype} vs fp32");
    }

    [Fact]
    public void A_partial_load_holds_only_its_blocks_and_matches_the_full_model()
    {
        var directory = TestModels.TinyDirectory();
        var config = ModelFolder.LoadConfig(directory);
        var server = new LlamaModel(config, LlamaWeightsLoader.Load(directory, config, 1, 2, includeEmbeddingAndHead: false));
        Assert.Null(server.Weights.Embedding);
        Assert.Throws<InvalidOperationException>(() => server.Weights.Block(0));
        var full = TestModels.Tiny();
        var a = full.Embed([5, 6]);
        var b = (float[])a.Clone();
        full.ForwardBlocks(full.CreateSession(), 1, 2, a, 2);
        server.ForwardBlocks(server.CreateSession(), 1, 2, b, 2);
        Assert.Equal(a, b);
    }

    [Fact]
    public void Missing_folder_config_and_weights_are_user_errors()
    {
        var missing = Path.Combine(TestModels.NewDirectory(), "nope");
        Assert.Contains("does not exist", Assert.Throws<StrataException>(() => ModelFolder.LoadModel(missing)).Message, StringComparison.Ordinal);
        var empty = TestModels.NewDirectory();
        Assert.Contains("no config.json", Assert.Throws<StrataException>(() => ModelFolder.LoadModel(empty)).Message, StringComparison.Ordinal);
        LlamaConfigFile.Save(ModelPreset.Tiny.ToConfig(), Path.Combine(empty, "config.json"));
        Assert.Contains("no .safetensors", Assert.Throws<StrataException>(() => ModelFolder.LoadModel(empty)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_shape_that_disagrees_with_config_json_names_the_tensor_and_both_shapes()
    {
        var directory = TestModels.NewDirectory();
        RandomModelWriter.Write(directory, ModelPreset.Tiny.ToConfig(), 1);
        LlamaConfigFile.Save(ModelPreset.Tiny.ToConfig() with
        {
            Architecture = ModelPreset.Tiny.ToConfig().Architecture with { IntermediateSize = 100 },
        }, Path.Combine(directory, "config.json"));
        var error = Assert.Throws<StrataException>(() => ModelFolder.LoadModel(directory));
        Assert.Contains("model.layers.0.mlp.gate_proj.weight", error.Message, StringComparison.Ordinal);
        Assert.Contains("[176, 64]", error.Message, StringComparison.Ordinal);
        Assert.Contains("[100, 64]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_tensor_is_named()
    {
        var directory = TestModels.NewDirectory();
        var config = ModelPreset.Tiny.ToConfig();
        var tensors = RandomModelWriter.Generate(config, 1).Where(t => t.Name != "model.layers.2.input_layernorm.weight").ToArray();
        SafetensorsWriter.Write(Path.Combine(directory, "model.safetensors"), tensors);
        LlamaConfigFile.Save(config, Path.Combine(directory, "config.json"));
        var error = Assert.Throws<StrataException>(() => ModelFolder.LoadModel(directory));
        Assert.Contains("model.layers.2.input_layernorm.weight", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"model_type\": \"gpt2\"", "model_type 'gpt2'")]
    [InlineData("\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 2}", "rope_type linear and llama3")]
    [InlineData("\"attention_bias\": true", "attention_bias")]
    [InlineData("\"hidden_act\": \"gelu\"", "hidden_act 'gelu'")]
    public void Configs_the_engine_cannot_run_are_refused_by_name(string field, string expected)
    {
        var directory = TestModels.NewDirectory();
        var path = Path.Combine(directory, "config.json");
        File.WriteAllText(path, "{\"hidden_size\": 64, \"num_hidden_layers\": 2, \"num_attention_heads\": 4, \"vocab_size\": 256, \"intermediate_size\": 128, " + field + "}");
        Assert.Contains(expected, Assert.Throws<StrataException>(() => ModelFolder.LoadConfig(directory)).Message, StringComparison.Ordinal);
    }
}
