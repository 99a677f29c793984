namespace Strata.Runtime.Weights.Gguf;

/// <summary>One tensor of a GGUF file, as its header describes it.</summary>
/// <param name="Name">The tensor's name, for example <c>blk.0.attn_q.weight</c>.</param>
/// <param name="Type">Its element type.</param>
/// <param name="Dimensions">ggml's <c>ne</c>: innermost first, so an <c>(out, in)</c> weight is <c>[in, out]</c>.</param>
/// <param name="OffsetBytes">Offset of its data from the start of the data section.</param>
/// <param name="SizeBytes">Bytes of its data.</param>
public sealed record GgufTensorInfo(string Name, GgmlType Type, long[] Dimensions, long OffsetBytes, long SizeBytes)
{
    /// <summary>Number of values.</summary>
    public long ElementCount => Dimensions.Aggregate(1L, (product, dimension) => product * dimension);

    /// <summary>The shape outermost first, as Hugging Face and safetensors write it: <c>(out, in)</c> for a weight.</summary>
    public long[] Shape => [.. Dimensions.Reverse()];

    /// <summary>The shape as text, outermost first: <c>[out, in]</c>.</summary>
    public string ShapeText => $"[{string.Join(", ", Shape)}]";
}
