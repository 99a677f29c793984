namespace Strata.Runtime.Weights;

/// <summary>A tensor to write into a safetensors file: fp32 values stored as <see cref="Dtype"/>.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="Dtype">Element type in the file.</param>
/// <param name="Shape">Dimensions, outermost first; their product is the length of <paramref name="Data"/>.</param>
/// <param name="Data">Values, row-major.</param>
public sealed record SafetensorsTensor(string Name, TensorDtype Dtype, IReadOnlyList<long> Shape, float[] Data);
