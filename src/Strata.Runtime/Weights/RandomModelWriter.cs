using System.Globalization;
using Strata.Core;
using Strata.Runtime.Engine;
using Strata.Runtime.Sampling;

namespace Strata.Runtime.Weights;

/// <summary>Writes a model folder (<c>config.json</c> + <c>model.safetensors</c>) with deterministic random weights.</summary>
/// <remarks>
/// Each tensor draws from its own stream, seeded by the root seed and the tensor's name, so the same seed
/// gives the same bits whatever the order of writing. Projections are uniform with variance <c>1 / fan_in</c>
/// (activations keep unit scale, attention is far from uniform), norm gains are <c>1 +- 0.1</c>, the
/// embedding is uniform in <c>[-1, 1)</c>.
/// </remarks>
public static class RandomModelWriter
{
    /// <summary>Generates the tensors of <paramref name="config"/> from <paramref name="seed"/>, in Hugging Face names.</summary>
    public static IReadOnlyList<SafetensorsTensor> Generate(LlamaConfig config, ulong seed, TensorDtype dtype = TensorDtype.F32)
    {
        ArgumentNullException.ThrowIfNull(config);
        var tensors = new List<SafetensorsTensor>();
        long v = config.VocabularySize, h = config.HiddenSize;
        tensors.Add(Make(LlamaWeightsLoader.EmbeddingName, [v, h], 1f, 0f));
        for (var block = 0; block < config.LayerCount; block++)
        {
            foreach (var (suffix, shape) in LlamaWeightsLoader.BlockTensors(config))
            {
                var name = LlamaWeightsLoader.BlockTensorName(block, suffix);
                tensors.Add(shape.Length == 1 ? Make(name, shape, 0.1f, 1f) : Make(name, shape, MathF.Sqrt(3f / shape[1]), 0f));
            }
        }

        tensors.Add(Make(LlamaWeightsLoader.FinalNormName, [h], 0.1f, 1f));
        if (!config.Architecture.TiedEmbeddings)
        {
            tensors.Add(Make(LlamaWeightsLoader.LmHeadName, [v, h], MathF.Sqrt(3f / h), 0f));
        }

        return tensors;

        SafetensorsTensor Make(string name, long[] shape, float bound, float center)
        {
            var random = new DeterministicRandom(DeterministicRandom.DeriveSeed(seed, name));
            var data = new float[shape.Aggregate(1L, (a, b) => a * b)];
            for (var i = 0; i < data.Length; i++)
            {
                data[i] = center + random.NextSymmetric(bound);
            }

            return new SafetensorsTensor(name, dtype, shape, data);
        }
    }

    /// <summary>Writes <c>config.json</c> and <c>model.safetensors</c> of <paramref name="config"/> into <paramref name="directory"/>.</summary>
    /// <exception cref="StrataException">The folder exists and already holds a model.</exception>
    public static void Write(string directory, LlamaConfig config, ulong seed, TensorDtype dtype = TensorDtype.F32, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var configPath = Path.Combine(directory, "config.json");
        var weightsPath = Path.Combine(directory, "model.safetensors");
        if (!overwrite && (File.Exists(configPath) || File.Exists(weightsPath)))
        {
            throw new StrataException($"Model folder '{directory}' already holds a model; choose an empty folder or pass --force.");
        }

        Directory.CreateDirectory(directory);
        var tensors = Generate(config, seed, dtype);
        SafetensorsWriter.Write(weightsPath, tensors, new Dictionary<string, string>
        {
            ["format"] = "pt",
            ["generator"] = "strata model init",
            ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
        });
        LlamaConfigFile.Save(config, configPath, dtype switch
        {
            TensorDtype.F16 => "float16",
            TensorDtype.BF16 => "bfloat16",
            _ => "float32",
        });
    }
}
