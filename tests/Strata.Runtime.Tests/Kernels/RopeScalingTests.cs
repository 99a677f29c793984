using Strata.Runtime.Engine;
using Strata.Runtime.Kernels;
using Strata.Runtime.Weights;

namespace Strata.Runtime.Tests.Kernels;

public sealed class RopeScalingTests
{
    [Fact]
    public void Linear_scaling_by_two_turns_position_2p_like_unscaled_position_p()
    {
        var x = TestData.Random(2 * 16, 1);
        var scaled = (float[])x.Clone();
        var plain = (float[])x.Clone();
        new RotaryEmbedding(16, 10_000, new RopeScaling("linear", 2).Apply).Apply(scaled, 1, 2, 6);
        new RotaryEmbedding(16, 10_000).Apply(plain, 1, 2, 3);
        TestData.AssertClose(plain, scaled, 1e-6, "linear rope scaling");
    }

    [Fact]
    public void Llama3_scaling_keeps_high_frequencies_divides_low_ones_and_blends_between()
    {
        // Llama 3.1: theta 500,000, head width 128, factor 8, low 1, high 4, original context 8,192.
        var scaling = new RopeScaling("llama3", 8, 1, 4, 8192);
        var plain = new RotaryEmbedding(128, 500_000);
        var scaled = new RotaryEmbedding(128, 500_000, scaling.Apply);
        var (kept, divided, blended) = (0, 0, 0);
        for (var i = 0; i < 64; i++)
        {
            var f = plain.InverseFrequencies[i];
            var g = scaled.InverseFrequencies[i];
            var wavelength = 2 * Math.PI / f;
            if (wavelength < 8192 / 4.0)
            {
                Assert.Equal(f, g);
                kept++;
            }
            else if (wavelength > 8192 / 1.0)
            {
                Assert.Equal(f / 8, g, 15);
                divided++;
            }
            else
            {
                Assert.InRange(g, f / 8, f);
                blended++;
            }
        }

        Assert.True(kept > 0 && divided > 0 && blended > 0, $"kept {kept}, divided {divided}, blended {blended}");

        // Continuity: at the edges of the blend the smooth rule meets the two plain ones.
        Assert.Equal(2 * Math.PI / 2048, scaling.Apply(2 * Math.PI / 2048), 12);
        Assert.Equal(2 * Math.PI / 8192 / 8, scaling.Apply(2 * Math.PI / 8192), 12);
    }

    [Fact]
    public void A_llama3_config_with_rope_scaling_and_several_end_tokens_loads_and_round_trips()
    {
        var directory = TestModels.NewDirectory();
        var path = Path.Combine(directory, "config.json");
        File.WriteAllText(path, """
            {"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
             "vocab_size": 256, "intermediate_size": 128, "rope_theta": 500000.0, "tie_word_embeddings": true,
             "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009],
             "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0, "original_max_position_embeddings": 8192, "rope_type": "llama3"}}
            """);
        var config = ModelFolder.LoadConfig(directory);
        Assert.Equal(new RopeScaling("llama3", 32, 1, 4, 8192), config.RopeScaling);
        Assert.Equal(500_000, config.RopeTheta);
        Assert.Equal(128000, config.BosTokenId);
        Assert.Equal([128001, 128008, 128009], config.EosTokenIds);
        LlamaConfigFile.Save(config, path);
        var reloaded = ModelFolder.LoadConfig(directory);
        Assert.Equal(config.RopeScaling, reloaded.RopeScaling);
        Assert.Equal(config.EosTokenIds, reloaded.EosTokenIds);
    }
}
