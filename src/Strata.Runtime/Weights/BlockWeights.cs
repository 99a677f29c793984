using Strata.Runtime.Kernels;

namespace Strata.Runtime.Weights;

/// <summary>The fp32 weights of one transformer block: projections of Hugging Face shape <c>(out, in)</c>, packed for <see cref="MatMul"/>.</summary>
public sealed class BlockWeights
{
    /// <summary><c>self_attn.q_proj.weight</c>, <c>(heads * headDim, hidden)</c>.</summary>
    public required PackedMatrix QueryProjection { get; init; }

    /// <summary><c>self_attn.k_proj.weight</c>, <c>(kvHeads * headDim, hidden)</c>.</summary>
    public required PackedMatrix KeyProjection { get; init; }

    /// <summary><c>self_attn.v_proj.weight</c>, <c>(kvHeads * headDim, hidden)</c>.</summary>
    public required PackedMatrix ValueProjection { get; init; }

    /// <summary><c>self_attn.o_proj.weight</c>, <c>(hidden, heads * headDim)</c>.</summary>
    public required PackedMatrix OutputProjection { get; init; }

    /// <summary><c>mlp.gate_proj.weight</c>, <c>(intermediate, hidden)</c>.</summary>
    public required PackedMatrix GateProjection { get; init; }

    /// <summary><c>mlp.up_proj.weight</c>, <c>(intermediate, hidden)</c>.</summary>
    public required PackedMatrix UpProjection { get; init; }

    /// <summary><c>mlp.down_proj.weight</c>, <c>(hidden, intermediate)</c>.</summary>
    public required PackedMatrix DownProjection { get; init; }

    /// <summary><c>input_layernorm.weight</c>, <c>(hidden)</c>.</summary>
    public required float[] InputNorm { get; init; }

    /// <summary><c>post_attention_layernorm.weight</c>, <c>(hidden)</c>.</summary>
    public required float[] PostAttentionNorm { get; init; }
}
