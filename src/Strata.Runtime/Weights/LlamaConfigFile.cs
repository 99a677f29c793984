using System.Text.Json;
using System.Text.Json.Nodes;
using Strata.Core;
using Strata.Core.Models;
using Strata.Runtime.Engine;

namespace Strata.Runtime.Weights;

/// <summary>Reads and writes the Hugging Face <c>config.json</c> of a Llama-architecture model.</summary>
/// <remarks>
/// The shape comes from <see cref="HuggingFaceConfig"/>; this adds the numbers the engine needs
/// (<c>rope_theta</c>, <c>rope_scaling</c> of type linear or llama3, <c>rms_norm_eps</c>, token ids) and refuses
/// what the engine does not implement (biases, other rope scalings, a head width other than hidden / heads, a
/// non-SiLU activation).
/// </remarks>
public static class LlamaConfigFile
{
    private static readonly string[] SupportedModelTypes = ["llama", "mistral"];

    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="StrataException">The file is missing or malformed, or describes a model the engine cannot run.</exception>
    public static LlamaConfig Load(string path)
    {
        var architecture = HuggingFaceConfig.Load(path);
        using var document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        var root = document.RootElement;
        var modelType = String(root, "model_type");
        if (modelType is not null && !SupportedModelTypes.Contains(modelType, StringComparer.OrdinalIgnoreCase))
        {
            throw new StrataException($"{path}: model_type '{modelType}' is not supported by the runtime; expected one of {string.Join(", ", SupportedModelTypes)} (a Llama-architecture decoder).");
        }

        var activation = String(root, "hidden_act");
        if (activation is not null && activation != "silu")
        {
            throw new StrataException($"{path}: hidden_act '{activation}' is not supported; the runtime implements Llama's SwiGLU MLP (silu).");
        }

        foreach (var bias in (string[])["attention_bias", "mlp_bias"])
        {
            if (root.TryGetProperty(bias, out var value) && value.ValueKind == JsonValueKind.True)
            {
                throw new StrataException($"{path}: {bias} is true; the runtime implements bias-free Llama projections.");
            }
        }

        var ropeScaling = root.TryGetProperty("rope_scaling", out var scaling) && scaling.ValueKind != JsonValueKind.Null
            ? ParseRopeScaling(scaling, path)
            : null;

        if (Number(root, "head_dim", path) is { } headDim && (int)headDim != architecture.HeadDimension)
        {
            throw new StrataException($"{path}: head_dim {headDim} differs from hidden_size / num_attention_heads = {architecture.HeadDimension}; the runtime needs them equal.");
        }

        if (architecture.HeadDimension % 2 != 0)
        {
            throw new StrataException($"{path}: the head width hidden_size / num_attention_heads = {architecture.HeadDimension} is odd; rotary embeddings need an even width.");
        }

        var theta = Number(root, "rope_theta", path) ?? 10_000;
        if (theta <= 1)
        {
            throw new StrataException($"{path}: rope_theta {theta} is invalid; expected a number above 1 such as 10000.");
        }

        var epsilon = Number(root, "rms_norm_eps", path) ?? 1e-6;
        if (epsilon <= 0)
        {
            throw new StrataException($"{path}: rms_norm_eps {epsilon} is invalid; expected a small positive number such as 1e-5.");
        }

        // Hugging Face's LlamaConfig and MistralConfig default to untied embeddings, unlike PretrainedConfig.
        if (!root.TryGetProperty("tie_word_embeddings", out _))
        {
            architecture = architecture with { TiedEmbeddings = false };
        }

        return new LlamaConfig
        {
            Architecture = architecture,
            RopeTheta = theta,
            RopeScaling = ropeScaling,
            RmsNormEpsilon = epsilon,
            BosTokenId = TokenIds(root, "bos_token_id") is [var bos, ..] ? bos : null,
            EosTokenIds = TokenIds(root, "eos_token_id"),
        };
    }

    /// <summary>Writes <paramref name="config"/> as a Hugging Face <c>config.json</c> at <paramref name="path"/>.</summary>
    public static void Save(LlamaConfig config, string path, string torchDtype = "float32")
    {
        ArgumentNullException.ThrowIfNull(config);
        var a = config.Architecture;
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray("LlamaForCausalLM"),
            ["model_type"] = "llama",
            ["hidden_size"] = a.HiddenSize,
            ["intermediate_size"] = a.IntermediateSize,
            ["num_hidden_layers"] = a.LayerCount,
            ["num_attention_heads"] = a.AttentionHeadCount,
            ["num_key_value_heads"] = a.KeyValueHeadCount,
            ["vocab_size"] = a.VocabularySize,
            ["max_position_embeddings"] = a.MaxContextTokens,
            ["hidden_act"] = "silu",
            ["rms_norm_eps"] = config.RmsNormEpsilon,
            ["rope_theta"] = config.RopeTheta,
            ["rope_scaling"] = config.RopeScaling is { } scaling
                ? new JsonObject
                {
                    ["rope_type"] = scaling.Type,
                    ["factor"] = scaling.Factor,
                    ["low_freq_factor"] = scaling.LowFrequencyFactor,
                    ["high_freq_factor"] = scaling.HighFrequencyFactor,
                    ["original_max_position_embeddings"] = scaling.OriginalMaxPositionEmbeddings,
                }
                : null,
            ["attention_bias"] = false,
            ["mlp_bias"] = false,
            ["tie_word_embeddings"] = a.TiedEmbeddings,
            ["torch_dtype"] = torchDtype,
        };
        if (config.BosTokenId is { } bos)
        {
            json["bos_token_id"] = bos;
        }

        if (config.EosTokenIds.Count > 0)
        {
            json["eos_token_id"] = config.EosTokenIds.Count == 1 ? config.EosTokenIds[0] : new JsonArray([.. config.EosTokenIds.Select(id => (JsonNode)id)]);
        }

        File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    private static RopeScaling ParseRopeScaling(JsonElement scaling, string path)
    {
        var raw = scaling.GetRawText();
        var type = scaling.ValueKind == JsonValueKind.Object ? String(scaling, "rope_type") ?? String(scaling, "type") : null;
        if (type is not ("linear" or "llama3"))
        {
            throw new StrataException($"{path}: rope_scaling {raw} is not supported; the runtime implements rope_type linear and llama3 (or rope_scaling null).");
        }

        var factor = Number(scaling, "factor", path) ?? 0;
        if (factor <= 0)
        {
            throw new StrataException($"{path}: rope_scaling factor in {raw} must be a positive number.");
        }

        var result = new RopeScaling(type, factor);
        if (type == "llama3")
        {
            result = result with
            {
                LowFrequencyFactor = Number(scaling, "low_freq_factor", path) ?? 1,
                HighFrequencyFactor = Number(scaling, "high_freq_factor", path) ?? 4,
                OriginalMaxPositionEmbeddings = (int)(Number(scaling, "original_max_position_embeddings", path) ?? 8192),
            };
            if (result.HighFrequencyFactor <= result.LowFrequencyFactor || result.LowFrequencyFactor <= 0 || result.OriginalMaxPositionEmbeddings <= 0)
            {
                throw new StrataException($"{path}: rope_scaling {raw} needs 0 < low_freq_factor < high_freq_factor and a positive original_max_position_embeddings.");
            }
        }

        return result;
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static double? Number(JsonElement root, string name, string path)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.Number && double.IsFinite(value.GetDouble())
            ? value.GetDouble()
            : throw new StrataException($"{path}: {name} is {value.GetRawText()}; expected a number.");
    }

    // A token id field may be one id or a list of them (Llama 3 lists several end-of-turn tokens).
    private static int[] TokenIds(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value))
        {
            return [];
        }

        var items = value.ValueKind == JsonValueKind.Array ? value.EnumerateArray().ToArray() : [value];
        return [.. items.Where(item => item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out _)).Select(item => item.GetInt32())];
    }
}
