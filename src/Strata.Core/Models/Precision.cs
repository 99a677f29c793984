namespace Strata.Core.Models;

/// <summary>How a model's weights are stored.</summary>
/// <remarks>
/// 8- and 4-bit precisions are weight-only quantization (LLM.int8, NF4, GPTQ, AWQ): the weights are
/// dequantized and the matrix products run in 16-bit, so they save memory and bandwidth, not FLOPs.
/// </remarks>
public enum Precision
{
    /// <summary>32-bit IEEE float.</summary>
    Fp32,
    /// <summary>16-bit IEEE half.</summary>
    Fp16,
    /// <summary>16-bit brain float.</summary>
    Bf16,
    /// <summary>8-bit integer weights (weight-only quantization).</summary>
    Int8,
    /// <summary>4-bit weights (NF4 or INT4, weight-only quantization).</summary>
    Int4,
}
