namespace Strata.Runtime.Kernels;

/// <summary>
/// The weight of a linear layer, <c>(columns, inner)</c> in the Hugging Face <c>(out, in)</c> sense, in whatever form
/// a product reads it: fp32 panels (<see cref="PackedMatrix"/>) or ggml blocks (<see cref="QuantizedMatrix"/>).
/// </summary>
/// <remarks>
/// A product splits the output columns into groups of 64; every output element is computed by exactly one group,
/// as one in-order accumulation over the inner index, so its bits depend neither on threads nor on batching.
/// </remarks>
public abstract class LinearWeight
{
    /// <summary>Output columns per group: one task of a parallel product.</summary>
    public const int ColumnsPerGroup = 64;

    private protected LinearWeight(int columns, int inner)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        ArgumentOutOfRangeException.ThrowIfNegative(inner);
        Columns = columns;
        Inner = inner;
    }

    /// <summary>Output columns (rows of the Hugging Face weight).</summary>
    public int Columns { get; }

    /// <summary>Shared dimension (columns of the Hugging Face weight).</summary>
    public int Inner { get; }

    /// <summary>Bytes the weight holds in memory, padding included.</summary>
    public abstract long SizeBytes { get; }

    /// <summary>Weight of output column <paramref name="column"/> at inner index <paramref name="k"/> as the product sees it: <c>W[column, k]</c>.</summary>
    public abstract float this[int column, int k] { get; }

    /// <summary>Copies weight row <paramref name="column"/> (all its inner values, dequantized) into <paramref name="destination"/>: an embedding lookup on a tied head.</summary>
    public abstract void CopyRow(int column, Span<float> destination);

    /// <summary>The weight back in row-major <c>(columns, inner)</c> fp32 order (dequantized).</summary>
    public float[] ToRowMajor()
    {
        var result = new float[(long)Columns * Inner];
        for (var column = 0; column < Columns; column++)
        {
            CopyRow(column, result.AsSpan(column * Inner, Inner));
        }

        return result;
    }

    /// <summary>Groups of <see cref="ColumnsPerGroup"/> output columns a product runs as tasks.</summary>
    internal int GroupCount => (Columns + ColumnsPerGroup - 1) / ColumnsPerGroup;

    /// <summary>Computes output columns of group <paramref name="group"/> for input rows <c>[0, rows)</c>.</summary>
    /// <param name="input">The input rows, fp32 and, for quantized weights, quantized to Q8 blocks.</param>
    /// <param name="output">Output, <c>(rows, Columns)</c>.</param>
    /// <param name="rows">Input rows.</param>
    /// <param name="group">Column group.</param>
    /// <param name="isa">Which vector path runs (same bits on every path).</param>
    internal abstract void MultiplyGroup(in MatMulInput input, Span<float> output, int rows, int group, KernelIsa isa);
}
