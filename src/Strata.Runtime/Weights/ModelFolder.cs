using Strata.Core;
using Strata.Runtime.Engine;
using Strata.Runtime.Weights.Gguf;

namespace Strata.Runtime.Weights;

/// <summary>
/// A model folder the way Hugging Face lays one out (<c>config.json</c>, <c>*.safetensors</c>, maybe <c>tokenizer.json</c>),
/// or the way llama.cpp does (one <c>*.gguf</c> file carrying configuration and weights).
/// </summary>
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
            if (GgufFile(directory) is { } gguf)
            {
                using var reader = GgufReader.Open(gguf);
                return GgufLlama.ReadConfig(reader);
            }

            throw new StrataException($"Model folder '{directory}' has no config.json and no .gguf file; expected a Hugging Face model folder (config.json + model.safetensors) or one GGUF file.");
        }

        return LlamaConfigFile.Load(path);
    }

    /// <summary>The folder's GGUF file, or null when it has none.</summary>
    /// <exception cref="StrataException">The folder holds more than one GGUF file.</exception>
    public static string? GgufFile(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var files = Directory.Exists(directory) ? Directory.GetFiles(directory, "*.gguf").Order(StringComparer.Ordinal).ToArray() : [];
        return files.Length switch
        {
            0 => null,
            1 => files[0],
            _ => throw new StrataException($"Model folder '{directory}' holds {files.Length} GGUF files ({string.Join(", ", files.Select(Path.GetFileName))}); expected one."),
        };
    }

    /// <summary>Loads the whole model (every block, the embedding and the head).</summary>
    public static LlamaModel LoadModel(string directory)
    {
        var config = LoadConfig(directory);
        return new LlamaModel(config, LlamaWeightsLoader.Load(directory, config, 0, config.LayerCount));
    }
}
