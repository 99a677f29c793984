namespace Strata.Runtime.Weights.Gguf;

/// <summary>A GGUF metadata array: its element type and its elements as .NET values.</summary>
/// <param name="ElementType">The type of every element.</param>
/// <param name="Values">The elements (<c>string</c>, <c>float</c>, <c>int</c>, ...).</param>
public sealed record GgufArray(GgufValueType ElementType, IReadOnlyList<object> Values);
