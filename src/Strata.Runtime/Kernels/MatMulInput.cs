namespace Strata.Runtime.Kernels;

/// <summary>The input rows of a product: fp32, plus their Q8 blocks when a quantized weight takes part.</summary>
/// <param name="Values">Input rows, <c>(rows, inner)</c>.</param>
/// <param name="Quantized">The same rows quantized to Q8 blocks, or null when no Q8_0/Q4_0 weight takes part.</param>
/// <param name="QuantizedK">The same rows quantized to Q8_K blocks, or null when no Q4_K weight takes part.</param>
internal readonly ref struct MatMulInput(ReadOnlySpan<float> Values, Q8Activations? Quantized, Q8KActivations? QuantizedK = null)
{
    /// <summary>Input rows, <c>(rows, inner)</c>.</summary>
    public ReadOnlySpan<float> Values { get; } = Values;

    /// <summary>The rows quantized to Q8 blocks, when a quantized weight takes part.</summary>
    public Q8Activations? Quantized { get; } = Quantized;

    /// <summary>The rows quantized to Q8_K blocks, when a Q4_K weight takes part.</summary>
    public Q8KActivations? QuantizedK { get; } = QuantizedK;
}
