namespace Strata.Runtime.Kernels;

/// <summary>The input rows of a product: fp32, plus their Q8 blocks when a quantized weight takes part.</summary>
/// <param name="Values">Input rows, <c>(rows, inner)</c>.</param>
/// <param name="Quantized">The same rows quantized to Q8 blocks, or null when every weight is fp32.</param>
internal readonly ref struct MatMulInput(ReadOnlySpan<float> Values, Q8Activations? Quantized)
{
    /// <summary>Input rows, <c>(rows, inner)</c>.</summary>
    public ReadOnlySpan<float> Values { get; } = Values;

    /// <summary>The rows quantized to Q8 blocks, when a quantized weight takes part.</summary>
    public Q8Activations? Quantized { get; } = Quantized;
}
