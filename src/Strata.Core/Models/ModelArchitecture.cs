using Strata.Core.Identity;

namespace Strata.Core.Models;

/// <summary>A decoder-only transformer, described by the fields of its Hugging Face <c>config.json</c>.</summary>
/// <remarks>
/// Parameter counts ignore biases and norm weights (under 0.1% of any catalog model).
/// Use <see cref="HuggingFaceConfig"/> to build one from a real <c>config.json</c>.
/// </remarks>
public sealed record ModelArchitecture
{
    /// <summary>Catalog id, for example <c>llama-2-70b</c>.</summary>
    public required ModelId Id { get; init; }

    /// <summary>Human-readable name.</summary>
    public required string Name { get; init; }

    /// <summary>Model (residual stream) width, <c>hidden_size</c>.</summary>
    public required int HiddenSize { get; init; }

    /// <summary>Number of transformer blocks, <c>num_hidden_layers</c>.</summary>
    public required int LayerCount { get; init; }

    /// <summary>Query heads per block, <c>num_attention_heads</c>.</summary>
    public required int AttentionHeadCount { get; init; }

    /// <summary>Key/value heads per block, <c>num_key_value_heads</c>; fewer than query heads under grouped-query attention.</summary>
    public required int KeyValueHeadCount { get; init; }

    /// <summary>Feed-forward width, <c>intermediate_size</c>.</summary>
    public required int IntermediateSize { get; init; }

    /// <summary>Vocabulary size, <c>vocab_size</c>.</summary>
    public required int VocabularySize { get; init; }

    /// <summary>Whether the LM head shares the token embedding matrix, <c>tie_word_embeddings</c>.</summary>
    public bool TiedEmbeddings { get; init; }

    /// <summary>Feed-forward shape: gated (three matrices) or plain (two).</summary>
    public MlpKind Mlp { get; init; } = MlpKind.Gated;

    /// <summary>Longest context the model supports, <c>max_position_embeddings</c>; 0 when unknown.</summary>
    public int MaxContextTokens { get; init; }

    /// <summary>Precision the published weights are stored in (<c>torch_dtype</c>).</summary>
    public Precision NativePrecision { get; init; } = Precision.Fp16;

    /// <summary>Where the numbers come from (a URL), when known.</summary>
    public string? Source { get; init; }

    /// <summary>Width of one attention head.</summary>
    public int HeadDimension => HiddenSize / AttentionHeadCount;

    /// <summary>Width of the keys (and of the values) per token per block: KV heads times head width.</summary>
    public int KeyValueDimension => KeyValueHeadCount * HeadDimension;

    /// <summary>Weights in one block's attention: Q and O projections (h x h) plus K and V (h x kv).</summary>
    public long AttentionParametersPerBlock => 2L * HiddenSize * HiddenSize + 2L * HiddenSize * KeyValueDimension;

    /// <summary>Weights in one block's feed-forward network.</summary>
    public long MlpParametersPerBlock => (Mlp == MlpKind.Gated ? 3L : 2L) * HiddenSize * IntermediateSize;

    /// <summary>Weights in one transformer block.</summary>
    public long ParametersPerBlock => AttentionParametersPerBlock + MlpParametersPerBlock;

    /// <summary>Weights of the token embedding.</summary>
    public long EmbeddingParameters => (long)VocabularySize * HiddenSize;

    /// <summary>Weights of the LM head (0 when tied to the embedding).</summary>
    public long LmHeadParameters => TiedEmbeddings ? 0 : (long)VocabularySize * HiddenSize;

    /// <summary>All weights: blocks, embedding and LM head.</summary>
    public long TotalParameters => ParametersPerBlock * LayerCount + EmbeddingParameters + LmHeadParameters;

    /// <summary>Checks that the fields describe a buildable transformer.</summary>
    /// <exception cref="StrataException">A field is out of range; the message names the model and field.</exception>
    /// <param name="origin">File or catalog entry the model comes from, for messages.</param>
    public ModelArchitecture Validate(string? origin = null)
    {
        var where = origin is null ? $"Model '{Id}'" : $"{origin}: model '{Id}'";
        Positive(HiddenSize, "hidden_size", where);
        Positive(LayerCount, "num_hidden_layers", where);
        Positive(AttentionHeadCount, "num_attention_heads", where);
        Positive(KeyValueHeadCount, "num_key_value_heads", where);
        Positive(IntermediateSize, "intermediate_size", where);
        Positive(VocabularySize, "vocab_size", where);
        if (HiddenSize % AttentionHeadCount != 0)
        {
            throw new StrataException(
                $"{where}: hidden_size {HiddenSize} is not a multiple of num_attention_heads {AttentionHeadCount}.");
        }

        if (AttentionHeadCount % KeyValueHeadCount != 0)
        {
            throw new StrataException(
                $"{where}: num_attention_heads {AttentionHeadCount} is not a multiple of num_key_value_heads {KeyValueHeadCount}.");
        }

        return this;
    }

    private static void Positive(int value, string field, string where)
    {
        if (value <= 0)
        {
            throw new StrataException($"{where}: {field} is {value}; expected a positive integer.");
        }
    }
}
