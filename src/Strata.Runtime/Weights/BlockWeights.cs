using Strata.Runtime.Kernels;

namespace Strata.Runtime.Weights;

/// <summary>The weights of one transformer block: projections of Hugging Face shape <c>(out, in)</c>, fp32 panels or ggml blocks for <see cref="MatMul"/>.</summary>
public sealed class BlockWeights
{
    /// <summary><c>self_attn.q_proj.weight</c>, <c>(heads * headDim, hidden)</c>.</summary>
    public required LinearWeight QueryProjection { get; init; }

    /// <summary><c>self_attn.k_proj.weight</c>, <c>(kvHeads * headDim, hidden)</c>.</summary>
    public required LinearWeight KeyProjection { get; init; }

    /// <summary><c>self_attn.v_proj.weight</c>, <c>(kvHeads * headDim, hidden)</c>.</summary>
    public required LinearWeight ValueProjection { get; init; }

    /// <summary><c>self_attn.o_proj.weight</c>, <c>(hidden, heads * headDim)</c>.</summary>
    public required LinearWeight OutputProjection { get; init; }

    /// <summary><c>mlp.gate_proj.weight</c>, <c>(intermediate, hidden)</c>.</summary>
    public required LinearWeight GateProjection { get; init; }

    /// <summary><c>mlp.up_proj.weight</c>, <c>(intermediate, hidden)</c>.</summary>
    public required LinearWeight UpProjection { get; init; }

    /// <summary><c>mlp.down_proj.weight</c>, <c>(hidden, intermediate)</c>.</summary>
    public required LinearWeight DownProjection { get; init; }

    /// <summary><c>input_layernorm.weight</c>, <c>(hidden)</c>.</summary>
    public required float[] InputNorm { get; init; }

    /// <summary><c>post_attention_layernorm.weight</c>, <c>(hidden)</c>.</summary>
    public required float[] PostAttentionNorm { get; init; }
}
