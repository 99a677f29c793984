using Strata.Core;
using Strata.Runtime.Engine;

namespace Strata.Runtime.Weights;

/// <summary>A model folder the way Hugging Face lays one out: <c>config.json</c>, <c>*.safetensors</c>, maybe <c>tokenizer.json</c>.</summary>
public static class ModelFolder
{
    /// <summary>Reads the folder's <c>config.json</c>.</summary>
    /// <exception cref="StrataException">The folder or its config is missing or unusable.</exception>
    public static LlamaConfig LoadConfig(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory))
        {
            throw new StrataException($"Model folder '{directory}' does not exist; create one with 'strata model init --preset tiny --out {directory}'.");
        }

        var path = Path.Combine(directory, "config.json");
        if (!File.Exists(path))
        {
            throw new StrataException($"Model folder '{directory}' has no config.json; expected a Hugging Face model folder (config.json + model.safetensors).");
        }

        return LlamaConfigFile.Load(path);
    }

    /// <summary>Loads the whole model (every block, the embedding and the head).</summary>
    public static LlamaModel LoadModel(string directory)
    {
        var config = LoadConfig(directory);
        return new LlamaModel(config, LlamaWeightsLoader.Load(directory, config, 0, config.LayerCount));
    }
}
