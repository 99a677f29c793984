namespace Strata.Runtime.Weights;

/// <summary>Element types Strata reads and writes in safetensors files.</summary>
public enum TensorDtype
{
    /// <summary>IEEE 754 single precision, safetensors <c>F32</c>.</summary>
    F32,

    /// <summary>IEEE 754 half precision, safetensors <c>F16</c>.</summary>
    F16,

    /// <summary>bfloat16 (the top half of an fp32), safetensors <c>BF16</c>.</summary>
    BF16,
}
