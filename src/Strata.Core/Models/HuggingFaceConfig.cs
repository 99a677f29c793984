using System.Text.Json;
using Strata.Core.Identity;

namespace Strata.Core.Models;

/// <summary>Reads a <see cref="ModelArchitecture"/> from the fields of a Hugging Face <c>config.json</c>.</summary>
/// <remarks>
/// Families name the same field differently (BLOOM <c>n_layer</c>, Falcon <c>n_head_kv</c>, OPT
/// <c>ffn_dim</c>); the first alias present wins. A missing feed-forward width is 4 x hidden, a missing
/// KV head count means multi-head attention (or one head when <c>multi_query</c> is set).
/// </remarks>
public static class HuggingFaceConfig
{
    private static readonly string[] HiddenNames = ["hidden_size", "n_embed", "n_embd", "d_model", "dim"];
    private static readonly string[] LayerNames = ["num_hidden_layers", "n_layer", "num_layers", "n_layers"];
    private static readonly string[] HeadNames = ["num_attention_heads", "n_head", "n_heads", "num_heads"];
    private static readonly string[] KvHeadNames = ["num_key_value_heads", "num_kv_heads", "n_head_kv", "n_kv_heads", "multi_query_group_num"];
    private static readonly string[] IntermediateNames = ["intermediate_size", "ffn_dim", "n_inner", "ffn_hidden_size"];
    private static readonly string[] ContextNames = ["max_position_embeddings", "seq_length", "n_positions", "max_seq_len"];
    private static readonly string[] GatedActivations = ["silu", "swiglu", "geglu", "gelu_pytorch_tanh_gated"];
    private static readonly string[] GatedModelTypes = ["llama", "mistral", "mixtral", "qwen2", "qwen3", "gemma", "gemma2", "phi3"];

    /// <summary>Reads a <c>config.json</c> file.</summary>
    /// <exception cref="StrataException">The file is missing, is not JSON, or lacks a required field.</exception>
    public static ModelArchitecture Load(string path, ModelId? id = null)
    {
        if (!File.Exists(path))
        {
            throw new StrataException($"Model config '{path}' does not exist; expected a Hugging Face config.json.");
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
            var name = id?.Value ?? Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path))) ?? "model";
            return Parse(document.RootElement, id ?? new ModelId(name), name, path, path);
        }
        catch (JsonException exception)
        {
            throw new StrataException($"Model config '{path}' is not valid JSON (line {exception.LineNumber + 1}): {exception.Message}", exception);
        }
    }

    /// <summary>Builds an architecture from the JSON object of a <c>config.json</c>.</summary>
    /// <param name="config">The JSON object.</param>
    /// <param name="id">The id to give the model.</param>
    /// <param name="name">The display name.</param>
    /// <param name="source">Where the numbers come from.</param>
    /// <param name="origin">File or catalog entry, for error messages.</param>
    public static ModelArchitecture Parse(JsonElement config, ModelId id, string name, string? source, string origin)
    {
        if (config.ValueKind != JsonValueKind.Object)
        {
            throw new StrataException($"{origin}: model '{id}' config is {config.ValueKind}; expected a JSON object of config.json fields.");
        }

        var hidden = RequiredInt(config, HiddenNames, id, origin);
        var heads = RequiredInt(config, HeadNames, id, origin);
        var multiQuery = Bool(config, "multi_query") == true && Bool(config, "new_decoder_architecture") != true;
        var kvHeads = OptionalInt(config, KvHeadNames, origin, id) ?? (multiQuery ? 1 : heads);
        var activation = String(config, "hidden_act") ?? String(config, "activation_function") ?? "";
        var modelType = String(config, "model_type") ?? "";
        var gated = GatedActivations.Contains(activation, StringComparer.OrdinalIgnoreCase)
            || GatedModelTypes.Contains(modelType, StringComparer.OrdinalIgnoreCase);
        var precision = PrecisionInfo.TryParse(String(config, "torch_dtype"), out var dtype) ? dtype : Precision.Fp16;

        return new ModelArchitecture
        {
            Id = id,
            Name = name,
            HiddenSize = hidden,
            LayerCount = RequiredInt(config, LayerNames, id, origin),
            AttentionHeadCount = heads,
            KeyValueHeadCount = kvHeads,
            IntermediateSize = OptionalInt(config, IntermediateNames, origin, id) ?? 4 * hidden,
            VocabularySize = RequiredInt(config, ["vocab_size", "padded_vocab_size"], id, origin),
            TiedEmbeddings = Bool(config, "tie_word_embeddings") ?? true, // Hugging Face's default
            Mlp = gated ? MlpKind.Gated : MlpKind.Plain,
            MaxContextTokens = OptionalInt(config, ContextNames, origin, id) ?? 0,
            NativePrecision = precision,
            Source = source,
        }.Validate(origin);
    }

    private static int RequiredInt(JsonElement config, string[] names, ModelId id, string origin) =>
        OptionalInt(config, names, origin, id)
        ?? throw new StrataException($"{origin}: model '{id}' has no '{names[0]}' field (nor any of {string.Join(", ", names.Skip(1))}); expected a positive integer.");

    private static int? OptionalInt(JsonElement config, string[] names, string origin, ModelId id)
    {
        foreach (var name in names)
        {
            if (!config.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                continue;
            }

            if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var number))
            {
                throw new StrataException($"{origin}: model '{id}' field '{name}' is {value.GetRawText()}; expected an integer.");
            }

            return number;
        }

        return null;
    }

    private static bool? Bool(JsonElement config, string name) =>
        config.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : null;

    private static string? String(JsonElement config, string name) =>
        config.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
