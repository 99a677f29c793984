namespace Strata.Core.Models;

/// <summary>The shape of a transformer block's feed-forward network.</summary>
public enum MlpKind
{
    /// <summary>Gated (SwiGLU/GeGLU): gate, up and down projections, three matrices (Llama, Mistral).</summary>
    Gated,
    /// <summary>Plain: up and down projections, two matrices (BLOOM, OPT, Falcon, GPT).</summary>
    Plain,
}
