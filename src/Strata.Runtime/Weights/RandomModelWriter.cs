using System.Globalization;
using Strata.Core;
using Strata.Runtime.Engine;
using Strata.Runtime.Sampling;
using Strata.Runtime.Weights.Gguf;

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
    public static IReadOnlyList<SafetensorsTensor> Generate(LlamaConfig config, ulong seed, TensorDtype dtype = TensorDtype.F32) =>
        [.. Specs(config).Select(spec => new SafetensorsTensor(spec.Name, dtype, spec.Shape, Fill(spec, seed)))];

    /// <summary>One tensor of <see cref="Generate"/> by Hugging Face name, alone: the same values, without the others in memory.</summary>
    /// <exception cref="StrataException">The model has no tensor of that name.</exception>
    public static float[] GenerateTensor(LlamaConfig config, ulong seed, string name)
    {
        ArgumentNullException.ThrowIfNull(config);
        var spec = Specs(config).FirstOrDefault(s => s.Name == name)
            ?? throw new StrataException($"A {config.Architecture.Name} model has no tensor '{name}'.");
        return Fill(spec, seed);
    }

    /// <summary>
    /// Writes <c>model.gguf</c> of <paramref name="config"/> with weights of <paramref name="type"/> into <paramref name="directory"/>,
    /// one tensor generated, encoded and written at a time (a 7B-class model never has its fp32 weights in memory at once).
    /// </summary>
    /// <returns>The path of the file written.</returns>
    /// <exception cref="StrataException">The folder already holds a model and <paramref name="overwrite"/> is false.</exception>
    public static string WriteGguf(string directory, LlamaConfig config, ulong seed, GgmlType type, bool overwrite = false)
    {
        ArgumentNullException.ThrowIfNull(directory);
        ArgumentNullException.ThrowIfNull(config);
        var path = Path.Combine(directory, GgufModelWriter.FileName);
        if (!overwrite && (File.Exists(path) || File.Exists(Path.Combine(directory, "config.json"))))
        {
            throw new StrataException($"Model folder '{directory}' already holds a model; choose an empty folder or pass --force.");
        }

        Directory.CreateDirectory(directory);
        GgufModelWriter.Write(config, name => GenerateTensor(config, seed, name), path, type);
        return path;
    }

    // Every tensor's name, shape and uniform distribution (center +- bound), in file order.
    private static IEnumerable<TensorSpec> Specs(LlamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        long v = config.VocabularySize, h = config.HiddenSize;
        yield return new TensorSpec(LlamaWeightsLoader.EmbeddingName, [v, h], 1f, 0f);
        for (var block = 0; block < config.LayerCount; block++)
        {
            foreach (var (suffix, shape) in LlamaWeightsLoader.BlockTensors(config))
            {
                var name = LlamaWeightsLoader.BlockTensorName(block, suffix);
                yield return shape.Length == 1 ? new TensorSpec(name, shape, 0.1f, 1f) : new TensorSpec(name, shape, MathF.Sqrt(3f / shape[1]), 0f);
            }
        }

        yield return new TensorSpec(LlamaWeightsLoader.FinalNormName, [h], 0.1f, 1f);
        if (!config.Architecture.TiedEmbeddings)
        {
            yield return new TensorSpec(LlamaWeightsLoader.LmHeadName, [v, h], MathF.Sqrt(3f / h), 0f);
        }
    }

    private static float[] Fill(TensorSpec spec, ulong seed)
    {
        var random = new DeterministicRandom(DeterministicRandom.DeriveSeed(seed, spec.Name));
        var data = new float[spec.Shape.Aggregate(1L, (a, b) => a * b)];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = spec.Center + random.NextSymmetric(spec.Bound);
        }

        return data;
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

    private sealed record TensorSpec(string Name, long[] Shape, float Bound, float Center);
}
