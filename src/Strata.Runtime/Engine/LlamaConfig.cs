using Strata.Core.Models;

namespace Strata.Runtime.Engine;

/// <summary>What the engine needs to run a Llama-architecture model: the architecture plus the numeric constants of <c>config.json</c>.</summary>
public sealed record LlamaConfig
{
    /// <summary>Shape of the model (hidden size, layers, heads, KV heads, intermediate size, vocabulary, tied embeddings).</summary>
    public required ModelArchitecture Architecture { get; init; }

    /// <summary>Base of the rotary position frequencies, <c>rope_theta</c> (Hugging Face default 10000).</summary>
    public double RopeTheta { get; init; } = 10_000;

    /// <summary>Rotary frequency scaling, <c>rope_scaling</c>; null for none.</summary>
    public RopeScaling? RopeScaling { get; init; }

    /// <summary>Epsilon added inside RMSNorm's square root, <c>rms_norm_eps</c> (Hugging Face default 1e-6).</summary>
    public double RmsNormEpsilon { get; init; } = 1e-6;

    /// <summary>Beginning-of-sequence token, <c>bos_token_id</c>, when the model has one.</summary>
    public int? BosTokenId { get; init; }

    /// <summary>End-of-sequence tokens, <c>eos_token_id</c> (one id or a list); generation stops when one is sampled.</summary>
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];

    /// <summary>Residual stream width.</summary>
    public int HiddenSize => Architecture.HiddenSize;

    /// <summary>Number of transformer blocks.</summary>
    public int LayerCount => Architecture.LayerCount;

    /// <summary>Query heads per block.</summary>
    public int HeadCount => Architecture.AttentionHeadCount;

    /// <summary>Key/value heads per block.</summary>
    public int KeyValueHeadCount => Architecture.KeyValueHeadCount;

    /// <summary>Width of one head.</summary>
    public int HeadDimension => Architecture.HeadDimension;

    /// <summary>Width of one token's keys (and of its values) in one block.</summary>
    public int KeyValueDimension => Architecture.KeyValueDimension;

    /// <summary>Width of the MLP.</summary>
    public int IntermediateSize => Architecture.IntermediateSize;

    /// <summary>Vocabulary size.</summary>
    public int VocabularySize => Architecture.VocabularySize;
}
