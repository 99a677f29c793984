using System.Globalization;
using Strata.Core;
using Strata.Core.Identity;
using Strata.Core.Models;
using Strata.Runtime.Engine;

namespace Strata.Runtime.Weights.Gguf;

/// <summary>
/// How llama.cpp names and orders a Llama model in GGUF: tensor names, metadata keys, and the row order of the
/// query and key projections.
/// </summary>
/// <remarks>
/// Hugging Face's rotary embedding rotates the two halves of a head (<c>rotate_half</c>); llama.cpp's
/// (<c>LLAMA_ROPE_TYPE_NORM</c>) rotates adjacent pairs. llama.cpp's <c>convert_hf_to_gguf.py</c> therefore permutes
/// the rows of <c>q_proj</c> and <c>k_proj</c> head by head: GGUF row <c>2i + j</c> of a head is Hugging Face row
/// <c>j * headDim / 2 + i</c>. The writer applies that permutation and the reader undoes it, so Strata (which
/// rotates halves) and llama.cpp compute the same function from the same file.
/// </remarks>
public static class GgufLlama
{
    /// <summary>The architecture string of a Llama model, <c>general.architecture</c>.</summary>
    public const string Architecture = "llama";

    /// <summary>The token embedding.</summary>
    public const string EmbeddingName = "token_embd.weight";

    /// <summary>The final norm.</summary>
    public const string FinalNormName = "output_norm.weight";

    /// <summary>The LM head (absent when tied to the embedding).</summary>
    public const string LmHeadName = "output.weight";

    private static readonly Dictionary<string, string> BlockSuffixes = new(StringComparer.Ordinal)
    {
        ["self_attn.q_proj.weight"] = "attn_q.weight",
        ["self_attn.k_proj.weight"] = "attn_k.weight",
        ["self_attn.v_proj.weight"] = "attn_v.weight",
        ["self_attn.o_proj.weight"] = "attn_output.weight",
        ["mlp.gate_proj.weight"] = "ffn_gate.weight",
        ["mlp.up_proj.weight"] = "ffn_up.weight",
        ["mlp.down_proj.weight"] = "ffn_down.weight",
        ["input_layernorm.weight"] = "attn_norm.weight",
        ["post_attention_layernorm.weight"] = "ffn_norm.weight",
    };

    /// <summary>The GGUF name of a block tensor given its Hugging Face suffix, e.g. <c>blk.3.ffn_up.weight</c>.</summary>
    public static string BlockTensorName(int blockIndex, string huggingFaceSuffix) =>
        BlockSuffixes.TryGetValue(huggingFaceSuffix, out var suffix)
            ? $"blk.{blockIndex}.{suffix}"
            : throw new ArgumentException($"'{huggingFaceSuffix}' is not a Llama block tensor.", nameof(huggingFaceSuffix));

    /// <summary>The GGUF name of a Hugging Face tensor name, for the names <see cref="LlamaWeightsLoader"/> uses.</summary>
    public static string TensorName(string huggingFaceName)
    {
        ArgumentNullException.ThrowIfNull(huggingFaceName);
        switch (huggingFaceName)
        {
            case LlamaWeightsLoader.EmbeddingName: return EmbeddingName;
            case LlamaWeightsLoader.FinalNormName: return FinalNormName;
            case LlamaWeightsLoader.LmHeadName: return LmHeadName;
        }

        var parts = huggingFaceName.Split('.', 4);
        return parts.Length == 4 && parts[0] == "model" && parts[1] == "layers" && int.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out var block)
            ? BlockTensorName(block, parts[3])
            : throw new ArgumentException($"'{huggingFaceName}' is not a Llama tensor name.", nameof(huggingFaceName));
    }

    /// <summary>Whether a Hugging Face block suffix is a projection whose rows llama.cpp permutes (query and key).</summary>
    public static bool IsRotaryPermuted(string huggingFaceSuffix) => huggingFaceSuffix is "self_attn.q_proj.weight" or "self_attn.k_proj.weight";

    /// <summary>The Hugging Face row that GGUF row <paramref name="ggufRow"/> of a permuted projection holds.</summary>
    public static int HuggingFaceRow(int ggufRow, int headDimension)
    {
        int head = ggufRow / headDimension, within = ggufRow % headDimension;
        return (head * headDimension) + ((within % 2) * (headDimension / 2)) + (within / 2);
    }

    /// <summary>The GGUF row that holds Hugging Face row <paramref name="huggingFaceRow"/> of a permuted projection (the inverse of <see cref="HuggingFaceRow"/>).</summary>
    public static int GgufRow(int huggingFaceRow, int headDimension)
    {
        int head = huggingFaceRow / headDimension, within = huggingFaceRow % headDimension, half = headDimension / 2;
        return (head * headDimension) + (2 * (within % half)) + (within / half);
    }

    /// <summary>Adds the <c>general.*</c> and <c>llama.*</c> metadata of <paramref name="config"/>.</summary>
    /// <exception cref="StrataException">The configuration uses a rope scaling GGUF cannot state in metadata (llama3).</exception>
    public static void AddConfig(GgufWriter writer, LlamaConfig config, uint fileType)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(config);
        var a = config.Architecture;
        writer.Add("general.architecture", Architecture)
            .Add("general.name", a.Name)
            .Add("general.file_type", fileType)
            .Add("llama.context_length", (uint)Math.Max(1, a.MaxContextTokens))
            .Add("llama.embedding_length", (uint)a.HiddenSize)
            .Add("llama.block_count", (uint)a.LayerCount)
            .Add("llama.feed_forward_length", (uint)a.IntermediateSize)
            .Add("llama.rope.dimension_count", (uint)a.HeadDimension)
            .Add("llama.attention.head_count", (uint)a.AttentionHeadCount)
            .Add("llama.attention.head_count_kv", (uint)a.KeyValueHeadCount)
            .Add("llama.rope.freq_base", (float)config.RopeTheta)
            .Add("llama.attention.layer_norm_rms_epsilon", (float)config.RmsNormEpsilon)
            .Add("llama.vocab_size", (uint)a.VocabularySize);
        switch (config.RopeScaling)
        {
            case null:
                break;
            case { Type: "linear" } linear:
                writer.Add("llama.rope.scaling.type", "linear").Add("llama.rope.scaling.factor", (float)linear.Factor);
                break;
            case var other:
                throw new StrataException($"rope_scaling type '{other.Type}' cannot be written to GGUF metadata (llama.cpp takes llama3 scaling as a rope_freqs tensor); convert models without rope_scaling or with linear scaling.");
        }
    }

    /// <summary>Reads the engine configuration of a llama GGUF file from its metadata and tensor shapes.</summary>
    /// <exception cref="StrataException">The file is not a llama model, or a value is missing or out of range.</exception>
    public static LlamaConfig ReadConfig(GgufReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var path = reader.Path;
        var architecture = reader.Text("general.architecture")
            ?? throw new StrataException($"GGUF file '{path}' has no metadata 'general.architecture'; expected \"llama\".");
        if (architecture != Architecture)
        {
            throw new StrataException($"GGUF file '{path}': general.architecture is \"{architecture}\"; Strata runs \"llama\" models.");
        }

        var hidden = reader.RequiredInteger("llama.embedding_length", 1);
        var heads = reader.RequiredInteger("llama.attention.head_count", 1);
        var kvHeads = reader.Integer("llama.attention.head_count_kv") is null ? heads : reader.RequiredInteger("llama.attention.head_count_kv", 1);
        var embedding = reader.Tensors.GetValueOrDefault(EmbeddingName)
            ?? throw new StrataException($"GGUF file '{path}' has no tensor '{EmbeddingName}'; a llama model needs its token embedding.");
        if (embedding.Dimensions.Length != 2 || embedding.Dimensions[0] != hidden)
        {
            throw new StrataException($"GGUF file '{path}': tensor '{EmbeddingName}' has ne [{string.Join(", ", embedding.Dimensions)}]; expected [{hidden}, vocab].");
        }

        if (reader.Tensors.ContainsKey("rope_freqs.weight"))
        {
            throw new StrataException($"GGUF file '{path}' has a 'rope_freqs.weight' tensor (llama3 rope scaling); Strata reads llama GGUF files without it.");
        }

        var headDimension = hidden / Math.Max(1, heads);
        if (reader.Integer("llama.rope.dimension_count") is { } ropeDimensions && ropeDimensions != headDimension)
        {
            throw new StrataException($"GGUF file '{path}': llama.rope.dimension_count is {ropeDimensions}; Strata rotates whole heads of {headDimension}.");
        }

        RopeScaling? scaling = null;
        switch (reader.Text("llama.rope.scaling.type"))
        {
            case null or "none":
                break;
            case "linear":
                var factor = reader.Number("llama.rope.scaling.factor") ?? 1;
                scaling = factor > 0 && factor != 1 ? new RopeScaling("linear", factor) : null;
                break;
            case var other:
                throw new StrataException($"GGUF file '{path}': llama.rope.scaling.type is \"{other}\"; Strata supports \"none\" and \"linear\".");
        }

        var name = reader.Text("general.name") ?? System.IO.Path.GetFileNameWithoutExtension(path);
        var config = new LlamaConfig
        {
            Architecture = new ModelArchitecture
            {
                Id = new ModelId(name),
                Name = name,
                HiddenSize = hidden,
                LayerCount = reader.RequiredInteger("llama.block_count", 1),
                AttentionHeadCount = heads,
                KeyValueHeadCount = kvHeads,
                IntermediateSize = reader.RequiredInteger("llama.feed_forward_length", 1),
                VocabularySize = (int)embedding.Dimensions[1],
                TiedEmbeddings = !reader.Tensors.ContainsKey(LmHeadName),
                Mlp = MlpKind.Gated,
                MaxContextTokens = reader.RequiredInteger("llama.context_length", 1),
                NativePrecision = Precision.Fp32,
                Source = path,
            }.Validate(path),
            RopeTheta = reader.Number("llama.rope.freq_base") ?? 10_000,
            RopeScaling = scaling,
            RmsNormEpsilon = reader.Number("llama.attention.layer_norm_rms_epsilon") ?? 1e-5,
            BosTokenId = reader.Integer("tokenizer.ggml.bos_token_id") is { } bos ? (int)bos : null,
            EosTokenIds = reader.Integer("tokenizer.ggml.eos_token_id") is { } eos ? [(int)eos] : [],
        };
        if (headDimension % 2 != 0)
        {
            throw new StrataException($"GGUF file '{path}': the head width {headDimension} is odd; rotary embeddings need an even width.");
        }

        if (config.RopeTheta <= 1 || config.RmsNormEpsilon is <= 0 or >= 1)
        {
            throw new StrataException($"GGUF file '{path}': llama.rope.freq_base {config.RopeTheta} or llama.attention.layer_norm_rms_epsilon {config.RmsNormEpsilon} is out of range; expected a base above 1 and a small positive epsilon.");
        }

        return config;
    }
}
