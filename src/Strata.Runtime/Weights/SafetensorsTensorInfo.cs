namespace Strata.Runtime.Weights;

/// <summary>One tensor's entry in a safetensors header.</summary>
/// <param name="Name">Tensor name, for example <c>model.layers.0.self_attn.q_proj.weight</c>.</param>
/// <param name="Dtype">Element type.</param>
/// <param name="Shape">Dimensions, outermost first.</param>
/// <param name="DataStartBytes">Offset of the first byte, relative to the start of the data section.</param>
/// <param name="DataEndBytes">Offset one past the last byte, relative to the start of the data section.</param>
public sealed record SafetensorsTensorInfo(string Name, TensorDtype Dtype, IReadOnlyList<long> Shape, long DataStartBytes, long DataEndBytes)
{
    /// <summary>Number of elements (1 for a scalar).</summary>
    public long ElementCount => Shape.Aggregate(1L, (product, dimension) => product * dimension);

    /// <summary>The shape as text, <c>[a, b]</c>.</summary>
    public string ShapeText => $"[{string.Join(", ", Shape)}]";
}
