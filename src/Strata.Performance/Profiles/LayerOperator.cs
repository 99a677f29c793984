namespace Strata.Performance.Profiles;

/// <summary>The operators of one transformer layer that the operator profiles time (Vidur's names in brackets).</summary>
public enum LayerOperator
{
    /// <summary>Token embedding lookup, once per step, not per layer (<c>emb</c>).</summary>
    Embedding,
    /// <summary>Norm before attention (<c>input_layernorm</c>).</summary>
    InputNorm,
    /// <summary>Q, K and V projections, one GEMM (<c>attn_pre_proj</c>).</summary>
    QkvProjection,
    /// <summary>Rotary position embedding of Q and K (<c>attn_rope</c>).</summary>
    Rope,
    /// <summary>Attention output projection (<c>attn_post_proj</c>).</summary>
    OutputProjection,
    /// <summary>Norm before the MLP; absent in parallel-attention models such as Phi-2 (<c>post_attention_layernorm</c>).</summary>
    PostAttentionNorm,
    /// <summary>MLP up (and gate) projection (<c>mlp_up_proj</c>).</summary>
    MlpUp,
    /// <summary>MLP activation (<c>mlp_act</c>).</summary>
    MlpActivation,
    /// <summary>MLP down projection (<c>mlp_down_proj</c>).</summary>
    MlpDown,
    /// <summary>Residual add (<c>add</c>).</summary>
    ResidualAdd,
}
